"""One place for numba JIT settings.

Every kernel in ``models/`` is decorated with :func:`kernel` so that caching and
``nogil`` are configured once. The on-disk cache lives in ``NUMBA_CACHE_DIR``
(``run.py``, the Makefile and the test suite point it at ``.numba_cache/`` in the
repository) so a process compiles each kernel once per source change.

>>> from models.jit import kernel
>>> @kernel
... def add(a, b):
...     return a + b
>>> add(1.0, 2.0)
3.0
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])

#: Disable the on-disk cache with CITYCC_JIT_CACHE=0 (e.g. read-only installs).
JIT_CACHE = os.environ.get("CITYCC_JIT_CACHE", "1") != "0"


def kernel(fn: F) -> F:
    """Compile ``fn`` in nopython mode with the project's settings (cache, nogil, no fastmath)."""
    compiled: Any = numba.njit(cache=JIT_CACHE, nogil=True, fastmath=False)(fn)
    return compiled  # type: ignore[no-any-return]
