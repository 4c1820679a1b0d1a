"""`python -m notifier`: read settings from the environment and serve.

The collector is tuned for a long-running service that makes many short-lived objects per
message (events, deliveries, outcomes, receipts): the youngest generation is collected every
20,000 allocations instead of 700, so a batch's objects mostly die by reference count before a
collection would have promoted them, and what startup built (policy, templates, clients,
schemas) is frozen out of every later collection. Measured in the live notifier of a pipeline
bench (bench/RESULTS.md, session 12): 7.0 % of its CPU in collections, 1.4 % tuned.
"""

import gc

from faststream.asgi import AsgiFastStream

from notifier.app import create_app
from notifier.settings import NotifierSettings
from servicekit.app import run_service

GC_THRESHOLDS = (20_000, 20, 20)


def create_frozen_app(settings: NotifierSettings) -> AsgiFastStream:
    """The app, then everything made so far moved out of the collector's reach."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


if __name__ == "__main__":
    gc.set_threshold(*GC_THRESHOLDS)
    run_service("notifier", NotifierSettings(), create_frozen_app)
