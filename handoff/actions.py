"""What advisors (and the desk's timers) do to a conversation, as changes the dialogue core applies.

Each method returns a function the core runs under the conversation's lock (see
``DialogueCore.act``): it checks the state as it is at that moment, changes it, and
says what the citizen is told, what is noted and what is audited. Because the check
and the change happen under the lock, two advisors claiming at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from bot.config import HandoffSettings
from bot.dialogue.core import Change
from bot.dialogue.model import Reply
from bot.dialogue.policy import DialoguePolicy
from bot.dialogue.state import ConversationState
from bot.storage.store import departure
from nlu.errors import NeuvoError

from .accounts import Account
from .audit import audit_row

ChangeFunction = Callable[[ConversationState, dt.datetime], Change]
OUTCOMES: Final = ("answered", "referred", "no_reply")


class Refused(NeuvoError, PermissionError):
    """An action that cannot be done now; ``code`` and ``status`` follow docs/console-api.md."""

    def __init__(self, code: str, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra


def may_view(account: Account, state: ConversationState) -> bool:
    """Team members and admins see a conversation; so does the advisor it was handed to personally."""
    return account.sees_team(state.team) or (account.handles_conversations and state.assigned_to == account.id)


def _require_view(account: Account, state: ConversationState) -> None:
    if not may_view(account, state):
        raise Refused("forbidden", 403, "this conversation belongs to another team")


def _require_holder(account: Account, state: ConversationState, *, admin_too: bool) -> None:
    _require_view(account, state)
    if state.status == "assigned" and state.assigned_to == account.id:
        return
    if admin_too and account.role == "admin" and state.status in ("assigned", "queued"):
        return
    raise Refused("not_yours", 409, "you do not hold this conversation")


class Actions:
    """Builds the changes; holds only the phrases and the teams."""

    def __init__(self, policy: DialoguePolicy, settings: HandoffSettings, max_chars: int) -> None:
        self.policy = policy
        self.settings = settings
        self.max_chars = max_chars

    # --- phrases ----------------------------------------------------------------------
    def team_name(self, team_id: str | None, language: str) -> str:
        """A team's name in a language."""
        try:
            return self.settings.team(team_id or "").name.get(language, team_id or "")
        except KeyError:
            return team_id or ""

    def _joined(self, state: ConversationState, name: str) -> Reply:
        return Reply(self.policy.say("advisor_joined", state.language, name=name), "advisor_joined", sender="system")

    def _left(self, state: ConversationState, name: str | None) -> Reply:
        who = name or self.policy.say("advisor_generic", state.language)
        return Reply(self.policy.say("advisor_left", state.language, name=who), "advisor_left", sender="system")

    def text(self, value: Any, field: str = "text") -> str:
        """A reply or note as sent: text, not blank, within the message limit."""
        if not isinstance(value, str) or not value.strip():
            raise Refused("bad_request", 400, f"{field} must be non-empty text", field=field)
        if len(value) > self.max_chars:
            raise Refused("too_long", 400, f"{field} is longer than {self.max_chars} characters", field=field)
        return value.strip()

    # --- holding ------------------------------------------------------------------------
    def claim(self, account: Account, holders: Callable[[int], str]) -> ChangeFunction:
        """Take a waiting conversation; the citizen hears that an advisor joined."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_view(account, state)
            if not account.handles_conversations:
                raise Refused("forbidden", 403, "only advisors and admins take conversations")
            if state.status == "assigned":
                by = holders(state.assigned_to or 0)
                raise Refused("already_claimed", 409, "someone else took this conversation", by=by)
            if state.status != "queued":
                raise Refused("wrong_state", 409, "this conversation is not waiting in a queue")
            state.status = "assigned"
            state.assigned_to = account.id
            state.dialogue.setdefault("advisor_joined_at", now.isoformat())
            state.dialogue.pop("waiting_noted", None)
            return Change(
                replies=[self._joined(state, account.display_name)],
                events=[("advisor_joined", {"advisor": account.id, "team": state.team})],
                participants=[{"role": "advisor", "advisor_id": account.id}],
                audit=[audit_row(account.id, "claim", team=state.team)],
            )

        return change

    def reply(self, account: Account, text: str) -> ChangeFunction:
        """The holder's answer to the citizen, delivered on the citizen's channel."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_view(account, state)
            if not (state.status == "assigned" and state.assigned_to == account.id):
                raise Refused("not_yours", 409, "you do not hold this conversation")
            return Change(
                replies=[Reply(text, "text", sender="advisor", advisor_id=account.id, author=account.display_name)],
                audit=[audit_row(account.id, "reply")],
            )

        return change

    def note(self, account: Account, text: str) -> ChangeFunction:
        """An internal note: advisors see it, the citizen never does."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_view(account, state)
            return Change(
                notes=[{"advisor_id": account.id, "author": account.display_name, "kind": "note", "text": text}],
                audit=[audit_row(account.id, "note")],
            )

        return change

    def transfer_to_team(
        self, account: Account, team_id: str, note: str | None, holder_name: str | None
    ) -> ChangeFunction:
        """Back to a queue, another team's or the same, keeping the citizen's place in time."""
        if team_id not in {team.id for team in self.settings.teams}:
            raise Refused("not_found", 404, f"no team {team_id!r}")

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_holder(account, state, admin_too=True)
            previous_holder = state.assigned_to
            source = state.team
            state.status = "queued"
            state.assigned_to = None
            state.team = team_id
            state.handoff_reason = "crisis" if state.priority > 0 else "transferred"
            state.queued_at = state.queued_at or now
            replies = [] if previous_holder is None else [self._left(state, holder_name)]
            replies.append(
                Reply(
                    self.policy.say(
                        "handoff_transferred", state.language, team=self.team_name(team_id, state.language)
                    ),
                    "notice",
                    sender="system",
                )
            )
            return Change(
                replies=replies,
                events=[("handoff_transferred", {"from": source, "to": team_id, "by": account.id})],
                notes=[
                    {
                        "advisor_id": account.id,
                        "author": account.display_name,
                        "kind": "transfer",
                        "text": note or f"→ {self.team_name(team_id, 'en')}",
                    }
                ],
                departures=[departure(state.id, previous_holder, now)] if previous_holder else [],
                audit=[audit_row(account.id, "transfer", team=team_id)],
            )

        return change

    def transfer_to_advisor(
        self, account: Account, target: Account, note: str | None, holder_name: str | None
    ) -> ChangeFunction:
        """Straight to a named advisor, who holds it at once (the desk checked they are online with room)."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_holder(account, state, admin_too=True)
            if state.assigned_to == target.id:
                raise Refused("wrong_state", 409, "that advisor holds this conversation already")
            previous_holder = state.assigned_to
            state.status = "assigned"
            state.assigned_to = target.id
            replies = [] if previous_holder is None else [self._left(state, holder_name)]
            replies.append(self._joined(state, target.display_name))
            return Change(
                replies=replies,
                events=[("handoff_transferred", {"from": account.id, "to_advisor": target.id})],
                notes=[
                    {
                        "advisor_id": account.id,
                        "author": account.display_name,
                        "kind": "transfer",
                        "text": note or f"→ {target.display_name}",
                    }
                ],
                participants=[{"role": "advisor", "advisor_id": target.id}],
                departures=[departure(state.id, previous_holder, now)] if previous_holder else [],
                audit=[audit_row(account.id, "transfer", advisor=target.id)],
            )

        return change

    def release(
        self,
        account: Account,
        holder_name: str | None,
        *,
        note: str | None = None,
        outcome: str | None = None,
        service: str | None = None,
    ) -> ChangeFunction:
        """The advisor leaves and the bot greets the citizen again: "return to the bot", or close with an outcome."""
        if outcome is not None and outcome not in OUTCOMES:
            raise Refused("bad_request", 400, f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
        if outcome == "referred" and not service:
            raise Refused("bad_request", 400, "name the service the citizen was referred to", field="service")

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_holder(account, state, admin_too=True)
            previous_holder = state.assigned_to
            state.status = "bot"
            state.assigned_to = None
            state.priority = 0
            state.queued_at = None
            state.outcome = outcome
            state.dialogue.pop("awaiting", None)
            state.dialogue["misses"] = 0
            replies = [self._left(state, holder_name)] if previous_holder else []
            replies.extend(self.policy.greet_again(state))
            name = "handoff_closed" if outcome else "handoff_released"
            notes = []
            if note:
                notes.append({"advisor_id": account.id, "author": account.display_name, "kind": "note", "text": note})
            if service:
                notes.append(
                    {
                        "advisor_id": account.id,
                        "author": account.display_name,
                        "kind": "system",
                        "text": f"referred: {service}",
                    }
                )
            return Change(
                replies=replies,
                events=[(name, {"outcome": outcome, "by": account.id})],
                notes=notes,
                departures=[departure(state.id, previous_holder, now)] if previous_holder else [],
                audit=[audit_row(account.id, "close" if outcome else "release", outcome=outcome)],
            )

        return change

    def answer(self, account: Account, text: str) -> ChangeFunction:
        """The answer to a left message, once; the citizen reads it in the widget, by reference code or in Telegram."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            _require_view(account, state)
            if not account.handles_conversations:
                raise Refused("forbidden", 403, "only advisors and admins answer messages")
            if not state.message_waiting:
                raise Refused("wrong_state", 409, "this message has been answered already, or there is none")
            state.answered_at = now
            return Change(
                replies=[
                    Reply(text, "message_answer", sender="advisor", advisor_id=account.id, author=account.display_name)
                ],
                events=[("message_answered", {"by": account.id, "team": state.team})],
                audit=[audit_row(account.id, "answer_message", team=state.team)],
            )

        return change

    def auto_return(self, advisor_id: int, holder_name: str | None, reason: str) -> ChangeFunction:
        """The desk's timer: the holder went quiet or offline, so the conversation waits for the next advisor."""

        def change(state: ConversationState, now: dt.datetime) -> Change:
            if not (state.status == "assigned" and state.assigned_to == advisor_id):
                raise Refused("wrong_state", 409, "no longer held by that advisor")
            state.status = "queued"
            state.assigned_to = None
            state.handoff_reason = "crisis" if state.priority > 0 else "returned"
            state.queued_at = state.queued_at or now
            return Change(
                replies=[
                    self._left(state, holder_name),
                    Reply(self.policy.say("handoff_returned", state.language), "notice", sender="system"),
                ],
                events=[("handoff_returned", {"advisor": advisor_id, "why": reason})],
                notes=[{"advisor_id": None, "author": None, "kind": "system", "text": reason}],
                departures=[departure(state.id, advisor_id, now)],
                audit=[audit_row(None, "auto_return", advisor=advisor_id, why=reason)],
            )

        return change
