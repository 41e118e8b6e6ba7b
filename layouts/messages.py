"""The UI message catalog: every user-facing string, in zh-CN (default) and English.

Parts live in ``layouts/catalog/`` (one module per page or domain). Layouts call
:func:`t` with a key; a missing key fails loudly in tests rather than showing a raw
key to an operator.

>>> t("status.title", "en")
'System status'
"""

from __future__ import annotations

import importlib
import pkgutil

from layouts import catalog

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

CATALOG: dict[str, dict[str, str]] = {}
for _mod in sorted(pkgutil.iter_modules(catalog.__path__), key=lambda m: m.name):
    _part = importlib.import_module(f"{catalog.__name__}.{_mod.name}").MESSAGES
    _dup = CATALOG.keys() & _part.keys()
    if _dup:
        raise ValueError(f"message keys defined twice: {sorted(_dup)}")
    CATALOG.update(_part)


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for ``key`` in ``lang`` (falls back to zh-CN for an unknown language)."""
    entry = CATALOG[key]
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]
