"""Acceptance tests of agents and multi-party conferences (issue 4), driven through the real CTI API."""
