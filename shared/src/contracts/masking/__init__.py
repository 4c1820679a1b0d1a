"""Masking of personal data in free text that leaves the service that took it in."""

from contracts.masking.names import mask_names
from contracts.masking.text import mask_email, mask_text

__all__ = ["mask_email", "mask_names", "mask_text"]
