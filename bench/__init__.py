"""Parley's benchmarks: a load generator, a floor server and a runner (see docs/benchmarks.md)."""
