"""Developer tools run from the repository (``scripts/screenshots``); not part of the installed package."""
