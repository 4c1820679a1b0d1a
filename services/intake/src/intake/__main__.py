"""`python -m intake`: read settings from the environment and serve."""

from servicekit.app import run_service

from intake.app import create_app
from intake.settings import IntakeSettings

if __name__ == "__main__":
    run_service("intake", IntakeSettings(), create_app)
