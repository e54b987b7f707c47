"""Lets ``python -m parley`` run the command line."""

from parley.cli import main

raise SystemExit(main())
