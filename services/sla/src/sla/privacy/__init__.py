"""Personal data on the case API (issue 20): masked contacts, reveals with an access log."""
