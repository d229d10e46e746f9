"""Deprecated alias of :mod:`bagel_core.builtin.train.common` (plugin API 1.0); removed in 0.3.
The trainer API is :mod:`bagel_core.train`."""

from bagel_core.builtin import moved

__getattr__ = moved(__name__, "bagel_core.builtin.train.common")
