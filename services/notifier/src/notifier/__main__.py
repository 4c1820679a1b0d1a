"""`python -m notifier`: read settings from the environment and serve."""

from servicekit.app import run_service

from notifier.app import create_app
from notifier.settings import NotifierSettings

if __name__ == "__main__":
    run_service("notifier", NotifierSettings(), create_app)
