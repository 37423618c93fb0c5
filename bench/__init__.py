"""Benchmarks that measure stockdrift against the sandbox world's ground truth."""
