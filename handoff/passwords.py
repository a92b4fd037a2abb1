"""Advisor passwords: argon2id hashes, and the rules a new password must meet."""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nlu.errors import NeuvoError

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
#: OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 lane): about 20 ms per hash here,
#: which is slow for a guesser and quick enough that logins need no queue.
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
#: Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY: Final = _HASHER.hash("not a real password, only for equal timing")


class PasswordRejected(NeuvoError, ValueError):
    """A new password does not meet the rules; the message says which."""


def check_new_password(password: str, name: str) -> None:
    """Length over complexity (NCSC and NIST guidance): at least 12 characters, not the account name.

    Raises:
        PasswordRejected: naming the rule that failed.

    """
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password may have at most {MAX_LENGTH} characters")
    if password.strip().casefold() == name.strip().casefold():
        raise PasswordRejected("the password must not be the account name")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) stored for a password."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with no stored hash it still spends the same time."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with weaker parameters than today's (rehashed at the next login)."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
