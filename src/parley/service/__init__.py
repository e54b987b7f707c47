"""Use cases: the only code that changes state; it talks to storage and the bus through ports."""
