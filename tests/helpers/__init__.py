"""Helpers shared by the test suites: scratch databases (``scratch_db``); servers are ``tests.conftest``'s
``start_server`` / ``serving``."""
