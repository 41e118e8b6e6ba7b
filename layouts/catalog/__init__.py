"""Message catalog parts: each module defines ``MESSAGES: dict[str, dict[str, str]]``.

One module per page or domain (so parallel work never edits the same file); keys are
namespaced (``wall.*``, ``dispatch.*``); :mod:`layouts.messages` merges them and rejects
duplicates.
"""
