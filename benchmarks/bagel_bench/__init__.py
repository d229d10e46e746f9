"""Helpers of bagel's scale benchmark: synthetic upstream data, measurement, the harness.

Not an installed package: ``benchmarks/generate.py`` and ``benchmarks/run_scale.py`` put
``benchmarks/`` on ``sys.path``, as does ``tests/test_scale_generator.py``.
"""
