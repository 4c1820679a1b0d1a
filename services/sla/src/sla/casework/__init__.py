"""Casework: the case lifecycle, staff actions, receipts, verdicts and the case queries."""
