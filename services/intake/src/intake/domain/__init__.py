"""The pure domain of intake: validate, normalise and mask what channels send."""

from intake.domain.duplicates import (
    DUPLICATE_WINDOW,
    EarlierComplaint,
    as_duplicate,
    find_original,
)
from intake.domain.fingerprint import fingerprint, is_near_duplicate
from intake.domain.identity import complainant_key_for, complaint_id_for
from intake.domain.masking import mask_text
from intake.domain.normalisation import normalise_text, to_simplified
from intake.domain.pipeline import process_raw
from intake.domain.results import (
    Accepted,
    Contact,
    IntakeLimits,
    Rejected,
    RejectReason,
)

__all__ = [
    "DUPLICATE_WINDOW",
    "Accepted",
    "Contact",
    "EarlierComplaint",
    "IntakeLimits",
    "RejectReason",
    "Rejected",
    "as_duplicate",
    "complainant_key_for",
    "complaint_id_for",
    "find_original",
    "fingerprint",
    "is_near_duplicate",
    "mask_text",
    "normalise_text",
    "process_raw",
    "to_simplified",
]
