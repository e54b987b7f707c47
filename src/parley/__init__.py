"""Parley: a self-hosted multi-party chat contact center that speaks Amazon Connect's wire protocols."""

__version__ = "0.1.0"
