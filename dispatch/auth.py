"""Accounts, roles and permissions; passwords hashed with scrypt (werkzeug).

Roles: ``operator`` (create and view incidents), ``commander`` (everything an
operator does, plus dispatch: assign, status changes, close), ``leader`` (read-only
overview), ``admin`` (all of it plus the audit log). Caller phone numbers are shown
unmasked only to commanders (they call back); everyone else sees ``138****5678``.

>>> can("operator", "dispatch"), can("commander", "dispatch"), can("leader", "view")
(False, True, True)
>>> h = hash_password("s3cret"); verify_password(h, "s3cret"), verify_password(h, "nope")
(True, False)
"""

from __future__ import annotations

import logging
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.store import DispatchStore

log = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("operator", "commander", "leader", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "create": frozenset({"operator", "commander", "admin"}),
    "dispatch": frozenset({"commander", "admin"}),
    "audit": frozenset({"admin"}),
    "see_phone": frozenset({"commander"}),
}
#: a valid hash of a random password: checked when the user is unknown, so a login
#: takes the same time whether or not the account exists
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method="scrypt")


def can(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def authenticate(store: DispatchStore, username: str, password: str) -> str | None:
    """The user's role when the password matches, else None."""
    found = store.get_user(username)
    if found is None:
        verify_password(_DUMMY_HASH, password)
        return None
    pw_hash, role = found
    return role if verify_password(pw_hash, password) else None


def ensure_demo_accounts(store: DispatchStore, password: str) -> str:
    """One account per role named after it; a random password when none is configured.

    Returns the password in force. The caller logs a generated one once, clearly.
    """
    pw = password or secrets.token_urlsafe(12)
    for role in ROLES:
        store.put_user(role, hash_password(pw), role, actor="system:startup")
    return pw
