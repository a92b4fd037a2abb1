"""Whether a conversation that needs a person can join a queue now, and what the citizen is told if not.

The dialogue policy asks; the handoff desk (``handoff/desk.py``) answers from its live
queues, the teams' office hours and the advisors online. Without a desk (the terminal
shell, policy tests) every handoff is queued to the default team.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from .state import ConversationState

#: Why a conversation was not queued.
Refusal = Literal["closed", "busy", "nobody_online"]
#: Crockford's base32: no I, L, O or U, so a code read over the phone is not misheard.
_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to "can this conversation wait for a person now?"."""

    team: str
    queue: bool
    #: The place it would take (1 = next), and the estimated wait; None when nobody is online.
    position: int | None = None
    wait_seconds: float | None = None
    why: Refusal | None = None
    #: The team's name and weekly hours in each language, for what the citizen is told (no hours: it never opens).
    team_name: Mapping[str, str] = field(default_factory=dict)
    hours: Mapping[str, str] = field(default_factory=dict)
    #: The longest acceptable wait, in minutes (for "busy").
    max_wait_minutes: float | None = None
    #: The date a message left now would be answered by.
    reply_by: dt.date | None = None


class Admissions(Protocol):
    """Who decides admissions: the handoff desk."""

    def admit(self, state: ConversationState, *, crisis: bool, now: dt.datetime) -> Admission:
        """Route the conversation to a team and say whether it can be queued now."""
        ...


@dataclass(frozen=True, slots=True)
class QueueEverything:
    """Admissions without a desk: everything waits in one team's queue."""

    team: str = "social_advice"

    def admit(self, state: ConversationState, *, crisis: bool, now: dt.datetime) -> Admission:
        """Always queue."""
        return Admission(self.team, queue=True, position=1)


def new_reference() -> str:
    """A reference code for a left message: 60 random bits, grouped for reading, ``K7QM-4XPR-2HZT``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}"


def normalize_reference(code: str) -> str:
    """A code as typed (lower case, spaces, O for 0) in its canonical form, without separators."""
    return "".join(ch for ch in code.upper().translate(_LOOKALIKES) if ch in _ALPHABET)


def reference_hash(code: str) -> str:
    """What a reference code is looked up by: whoever holds the code may read the answer, so lookups use a hash.

    The code itself stays in the citizen's transcript (the confirmation message), which only the
    conversation's token, its Telegram chat, or its team's advisors and admins can read.
    """
    return hashlib.sha256(normalize_reference(code).encode()).hexdigest()
