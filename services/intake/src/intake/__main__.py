"""`python -m intake`: read settings from the environment and serve."""

from intake.app import create_app
from intake.settings import IntakeSettings
from servicekit.app import run_service

if __name__ == "__main__":
    run_service("intake", IntakeSettings(), create_app)
