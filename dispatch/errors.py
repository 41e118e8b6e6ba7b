"""The few domain errors of dispatch; the API turns each into one HTTP status.

``NotFound`` → 404, ``Conflict`` (and ``InvalidTransition``) → 409,
``Invalid`` → 400 (with the offending field).
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base of the dispatch domain errors."""


class NotFound(DispatchError):
    pass


class Conflict(DispatchError):
    """Someone else changed the record first (e.g. the unit was assigned meanwhile)."""


class InvalidTransition(Conflict):
    """The requested status change is not allowed from the current status."""


class Invalid(DispatchError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
