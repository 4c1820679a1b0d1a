"""Errors raised by the SLA domain."""


class PolicyError(Exception):
    """A policy pack or calendar override file is missing, malformed or inconsistent."""
