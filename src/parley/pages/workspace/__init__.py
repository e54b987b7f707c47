"""The agent workspace (``/agent``): Parley's own custom CCP on unmodified StreamsJS + ChatJS."""
