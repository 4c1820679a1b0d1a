"""Clocks: the clock sheet of a case, its arithmetic, the due index and the scheduler."""
