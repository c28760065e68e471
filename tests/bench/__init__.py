"""
Benchmarks and the load test: a development-only app, installed only by
``tests.bench.settings`` (``make bench``, ``make loadtest``). No product
module imports it and production settings never load it.
"""
