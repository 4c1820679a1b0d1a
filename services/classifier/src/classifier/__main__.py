"""`python -m classifier`: read settings from the environment and serve."""

from classifier.app import create_app
from classifier.settings import ClassifierSettings
from servicekit.app import run_service

if __name__ == "__main__":
    run_service("classifier", ClassifierSettings(), create_app)
