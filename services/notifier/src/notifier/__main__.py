"""`python -m notifier`: read settings from the environment and serve."""

from notifier.app import create_app
from notifier.settings import NotifierSettings
from servicekit.app import run_service

if __name__ == "__main__":
    run_service("notifier", NotifierSettings(), create_app)
