"""Benchmarks behind `make bench`: each module measures one target and returns markdown."""
