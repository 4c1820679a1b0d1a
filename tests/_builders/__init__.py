"""Builders shared by the test suites: test doubles, rigs, sample messages. Not tests themselves.

Test modules import from here (or get a fixture from a `conftest.py`), never from one another.
"""
