"""`python -m sla`: read settings from the environment and serve."""

from servicekit.app import run_service
from sla.app import create_app
from sla.settings import SlaSettings

if __name__ == "__main__":
    run_service("sla", SlaSettings(), create_app)
