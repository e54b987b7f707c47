"""Fakes of Parley's ports for tests that should not need a database or a network (``tests.fakes.memory``)."""
