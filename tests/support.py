"""Now `tests._builders.doubles`, kept for tests/sla and tests/classifier (issue 19)."""

from tests._builders.doubles import E, FlakyPublisher

__all__ = ["E", "FlakyPublisher"]
