"""Recorded real-world data for replay: small shipped extracts, their catalogue and readers.

The gzipped extracts in this folder (see ``ATTRIBUTION.md`` for sources and licences,
``make_extracts.py`` for how they were cut) let ``streams.sources.replay`` run with
no external data; a full copy of the data sets in the same layout can be used instead.
"""

from __future__ import annotations

from pathlib import Path

#: Root of the shipped extracts (same relative layout as the full data sets).
EXTRACTS_DIR = Path(__file__).resolve().parent
