"""The handoff desk: team queues, advisors online, who holds what, and the live consoles.

The desk is the dialogue core's observer (it hears of every stored change inside the
conversation's lock) and its admissions office (the policy asks it whether a
conversation can wait for a person now). Advisors act through it; it runs their
actions through the core, so every change of a conversation, whoever makes it, is
ordered by the same lock and stored before anyone is told.

State here is in memory and rebuilt from the database at start: this is a
single-process design, like the dialogue core's cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from bot.config import HandoffSettings, TeamSettings
from bot.dialogue.admission import Admission
from bot.dialogue.core import DialogueCore
from bot.dialogue.model import Outbound
from bot.dialogue.state import ConversationState
from bot.storage.store import conversations

from .accounts import Account, AccountStore
from .actions import Actions, ChangeFunction, Refused
from .audit import AuditLog
from .live import ConsoleConnection
from .queues import Entry, Queues

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
#: How often the desk looks for advisors who went quiet or offline.
TICK_SECONDS: Final = 1.0
#: Weight of the newest handling time in a team's running average.
HANDLING_WEIGHT: Final = 0.2
#: Events that take a conversation out of the consoles' view, and the reason shown.
_REMOVAL_REASONS: Final = {
    "handoff_cancelled": "cancelled",
    "conversation_resolved": "ended",
    "handoff_released": "released",
    "handoff_closed": "closed",
    "message_answered": "answered",
    "handoff_transferred": "transferred",
}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class HandoffDesk:
    """Queues, presence, actions and fan-out to consoles."""

    def __init__(
        self,
        core: DialogueCore,
        accounts: AccountStore,
        audit: AuditLog,
        settings: HandoffSettings,
        actions: Actions,
        *,
        timezone: str = "Europe/Helsinki",
        clock: Clock = _utcnow,
    ) -> None:
        self.core = core
        self.accounts = accounts
        self.audit = audit
        self.settings = settings
        self.actions = actions
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self.queues = Queues()
        self.connections: defaultdict[int, set[ConsoleConnection]] = defaultdict(set)
        self.people: dict[int, Account] = {}
        self.offline_since: dict[int, dt.datetime] = {}
        self.watchers: defaultdict[str, set[ConsoleConnection]] = defaultdict(set)
        self.handling_seconds: dict[str, float] = {}
        self._claiming: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._told_citizen: dict[str, tuple[int, int | None]] = {}
        self._dirty_teams: set[str] = set()
        self._teams_changed = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the conversations that wait for or are held by advisors, and start the timers."""
        now = self.clock()
        for state in await self._open_handoffs():
            entry = Entry.of(state)
            if entry is None:
                continue
            if entry.status == "assigned":
                # Whoever held it before the restart gets a full reply time, and the offline grace.
                entry = entry.with_changes(awaiting_reply_since=now, assigned_at=now)
                if entry.assigned_to is not None:
                    self.offline_since.setdefault(entry.assigned_to, now)
            self.queues.put(entry)
        for account in await self.accounts.all():
            self.people[account.id] = account
        self.core.add_observer(self)
        self._tasks = [
            asyncio.create_task(self._tick(), name="handoff-timers"),
            asyncio.create_task(self._tell_citizens(), name="handoff-positions"),
        ]
        logger.info("handoff desk started", extra={"entries": len(self.queues)})

    async def stop(self) -> None:
        """Stop the timers and close every console."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connections in list(self.connections.values()):
            for connection in list(connections):
                await connection.close(code=1001, message=b"server shutting down")

    async def _open_handoffs(self) -> list[ConversationState]:
        query = select(conversations.c.id).where(
            or_(
                conversations.c.status.in_(("queued", "assigned")),
                conversations.c.message_at.is_not(None) & conversations.c.answered_at.is_(None),
            )
        )
        async with self.core.store.engine.connect() as connection:
            ids = list((await connection.execute(query)).scalars())
        states = []
        for conversation_id in ids:
            with contextlib.suppress(LookupError):
                states.append(await self.core.conversation(conversation_id))
        return states

    # --- admissions (asked by the dialogue policy, inside the conversation's lock) ---------------
    def admit(self, state: ConversationState, *, crisis: bool, now: dt.datetime) -> Admission:
        """Route to a team; queue if the team is open, staffed and not over its maximum wait."""
        team_id = (
            self.settings.crisis_team if crisis and self.settings.crisis_team else self.settings.route(state.topic)
        )
        team = self.settings.team(team_id)
        local_today = now.astimezone(self.zone).date()
        try:
            reply_by = team.hours.add_working_days(local_today, self.settings.answer_within_working_days)
        except ValueError:
            reply_by = local_today + dt.timedelta(days=self.settings.answer_within_working_days)
        waiting = self.queues.waiting(team_id)
        position = (sum(1 for e in waiting if e.crisis) if crisis else len(waiting)) + 1
        wait = self.estimate(team_id, position)
        common: dict[str, Any] = {
            "team": team_id,
            "team_name": team.name,
            # A team that never opens has no hours to tell the citizen ("the chat is open closed").
            "hours": (
                {language: team.hours.describe(language) for language in ("fi", "sv", "en")}
                if team.hours.has_weekly_hours
                else {}
            ),
            "max_wait_minutes": team.max_wait_minutes,
            "reply_by": reply_by,
        }
        why: Any = None
        if not team.hours.is_open(now):
            why = "closed"
        elif wait is None:
            why = "nobody_online"
        elif wait > team.max_wait_minutes * 60:
            why = "busy"
        if crisis:
            return Admission(queue=True, position=position, wait_seconds=wait, why=why, **common)
        if why is not None:
            return Admission(queue=False, why=why, **common)
        return Admission(queue=True, position=position, wait_seconds=wait, **common)

    def staff(self, team_id: str) -> list[Account]:
        """The team's members online now who answer citizens."""
        return [
            self.people[advisor_id]
            for advisor_id, connections in self.connections.items()
            if connections
            and advisor_id in self.people
            and self.people[advisor_id].handles_conversations
            and team_id in self.people[advisor_id].teams
        ]

    def estimate(self, team_id: str, position: int) -> float | None:
        """Seconds until the conversation at ``position`` is taken; None when nobody of the team is online.

        Free places are taken at once (about half a minute to notice and claim); beyond them the
        queue moves as fast as the team's online capacity finishes conversations, at the
        team's measured average handling time.
        """
        return self.estimator(team_id)(position)

    def estimator(self, team_id: str) -> Callable[[int], float | None]:
        """:meth:`estimate` for many positions of one team: the team's figures are read once, not per place."""
        staff = self.staff(team_id)
        if not staff:
            return lambda position: None
        free = sum(max(person.capacity - self.queues.holding(person.id), 0) for person in staff)
        average = self.handling_seconds.get(team_id, self.settings.average_handling_minutes * 60)
        capacity = max(sum(person.capacity for person in staff), 1)
        return lambda position: 30.0 if position <= free else 30.0 + (position - free) * average / capacity

    # --- observing the dialogue core -------------------------------------------------------------
    def conversation_changed(
        self, state: ConversationState, messages: Sequence[Outbound], events: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """Keep the queues in step with the stored state and tell the consoles (inside the lock: no waiting)."""
        now = self.clock()
        old = self.queues.get(state.id)
        new = Entry.of(state, old)
        if new is not None:
            new = self._track_replies(new, old, messages, now)
            self.queues.put(new)
        elif old is not None:
            self.queues.remove(state.id)
            self._told_citizen.pop(state.id, None)
        if old is not None and old.status == "assigned" and (new is None or new.assigned_to != old.assigned_to):
            self._measure_handling(old, now)
        self._announce_entry(old, new, events)
        if messages:
            self._announce_messages(state.id, new, messages)
        for entry in (old, new):
            if entry is not None and (entry.status == "queued" or (old and new and old.status != new.status)):
                self._dirty_teams.add(entry.team)
        if (old is None) != (new is None) or (old and new and old.visible_key() != new.visible_key()):
            self._teams_changed = True
            self._wake.set()

    def citizen_typing(self, state: ConversationState) -> None:
        """Show "typing…" to whoever holds or watches the conversation."""
        entry = self.queues.get(state.id)
        payload = json.dumps({"type": "typing", "conversation": state.id})
        for connection in self._readers(state.id, entry):
            connection.send_raw(payload)

    def _track_replies(self, new: Entry, old: Entry | None, messages: Sequence[Outbound], now: dt.datetime) -> Entry:
        changes: dict[str, Any] = {}
        if any(m.sender == "citizen" for m in messages):
            changes["last_citizen_at"] = now
        if new.status == "assigned":
            if old is None or old.assigned_to != new.assigned_to:
                changes.update(assigned_at=now, awaiting_reply_since=now)
            elif any(m.sender == "advisor" and m.advisor_id == new.assigned_to for m in messages):
                changes["awaiting_reply_since"] = None
            elif new.awaiting_reply_since is None and any(m.sender == "citizen" for m in messages):
                changes["awaiting_reply_since"] = now
        return new.with_changes(**changes) if changes else new

    def _measure_handling(self, old: Entry, now: dt.datetime) -> None:
        if old.assigned_at is None:
            return
        seconds = max((now - old.assigned_at).total_seconds(), 1.0)
        previous = self.handling_seconds.get(old.team)
        self.handling_seconds[old.team] = (
            seconds if previous is None else (1 - HANDLING_WEIGHT) * previous + HANDLING_WEIGHT * seconds
        )

    # --- fan-out to consoles ---------------------------------------------------------------------
    def _viewers(self, entry: Entry) -> Iterable[ConsoleConnection]:
        for advisor_id, connections in self.connections.items():
            person = self.people.get(advisor_id)
            if person is not None and (person.sees_team(entry.team) or entry.assigned_to == advisor_id):
                yield from connections

    def _readers(self, conversation_id: str, entry: Entry | None) -> set[ConsoleConnection]:
        readers = set(self.watchers.get(conversation_id, ()))
        if entry is not None and entry.assigned_to is not None:
            readers.update(self.connections.get(entry.assigned_to, ()))
        return readers

    def entry_dict(self, entry: Entry) -> dict[str, Any]:
        """The API's Entry, with its place in the queue and the holder's name."""
        position = self.queues.position(entry)
        holder = self.people.get(entry.assigned_to) if entry.assigned_to else None
        return entry.as_dict(position, holder.display_name if holder else None)

    def _announce_entry(
        self, old: Entry | None, new: Entry | None, events: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        if new is not None and (old is None or old.visible_key() != new.visible_key()):
            viewers = list(self._viewers(new))
            payload = (
                json.dumps({"type": "entry", "entry": self.entry_dict(new)}, ensure_ascii=False) if viewers else ""
            )
            seen = set()
            for connection in viewers:
                seen.add(connection)
                connection.send_raw(payload)
            if old is not None:
                # Those who could see it before but not now (a transfer to another team).
                self._remove_for(old, "transferred", exclude=seen)
        elif new is None and old is not None:
            why = next((_REMOVAL_REASONS[name] for name, _ in events if name in _REMOVAL_REASONS), "removed")
            self._remove_for(old, why)

    def _remove_for(self, old: Entry, why: str, exclude: set[ConsoleConnection] | None = None) -> None:
        payload = json.dumps({"type": "entry_removed", "id": old.id, "why": why})
        for connection in self._viewers(old):
            if exclude is None or connection not in exclude:
                connection.send_raw(payload)

    def _announce_messages(self, conversation_id: str, entry: Entry | None, messages: Sequence[Outbound]) -> None:
        readers = self._readers(conversation_id, entry)
        if not readers:
            return
        payloads = [
            json.dumps(
                {"type": "message", "conversation": conversation_id, "message": console_message(m)}, ensure_ascii=False
            )
            for m in messages
        ]
        for connection in readers:
            for payload in payloads:
                connection.send_raw(payload)

    def announce_note(self, conversation_id: str, note: dict[str, Any]) -> None:
        """A new internal note, to whoever holds or watches the conversation."""
        payload = json.dumps({"type": "note", "conversation": conversation_id, "note": note}, ensure_ascii=False)
        for connection in self._readers(conversation_id, self.queues.get(conversation_id)):
            connection.send_raw(payload)

    def teams_dict(self, account: Account | None = None) -> list[dict[str, Any]]:
        """The API's Team objects: every team, or those an account belongs to."""
        now = self.clock()
        result = []
        for team in self.settings.teams:
            if account is not None and account.role != "admin" and team.id not in account.teams:
                continue
            result.append(self._team_dict(team, now))
        return result

    def _team_dict(self, team: TeamSettings, now: dt.datetime) -> dict[str, Any]:
        waiting = len(self.queues.waiting(team.id))
        return {
            "id": team.id,
            "name": dict(team.name),
            "open": team.hours.is_open(now),
            "hours": {language: team.hours.describe(language) for language in ("fi", "sv", "en")},
            "online": len(self.staff(team.id)),
            "waiting": waiting,
            "estimated_wait_seconds": self.estimate(team.id, waiting + 1),
        }

    def _broadcast_teams(self) -> None:
        for advisor_id, connections in self.connections.items():
            person = self.people.get(advisor_id)
            if person is None or not connections:
                continue
            payload = json.dumps({"type": "teams", "teams": self.teams_dict(person)}, ensure_ascii=False)
            for connection in connections:
                connection.send_raw(payload)

    # --- telling waiting citizens their place ----------------------------------------------------
    async def _tell_citizens(self) -> None:
        """Send changed queue positions and estimates to waiting citizens, a batch per wake-up."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._teams_changed:
                self._teams_changed = False
                self._broadcast_teams()
            teams, self._dirty_teams = self._dirty_teams, set()
            for team in teams:
                # One ordering and one estimate of the team per wake-up: with hundreds waiting, working
                # them out again for each citizen was the server's largest cost under load.
                estimate = self.estimator(team)
                for position, entry in enumerate(self.queues.waiting(team), start=1):
                    await self._tell_position(entry, position, estimate(position))
            await asyncio.sleep(0.05)  # coalesce bursts: one update per citizen per 50 ms at most

    async def _tell_position(self, entry: Entry, position: int, wait: float | None) -> None:
        minutes = None if wait is None else max(1, round(wait / 60)) if wait >= 60 else 0
        if self._told_citizen.get(entry.id) == (position, minutes):
            return
        self._told_citizen[entry.id] = (position, minutes)
        state = self.core.cached(entry.id)
        if state is None:
            try:
                state = await self.core.conversation(entry.id)
            except LookupError:
                return
        await self.core.signal(
            state,
            {
                "type": "queue",
                "status": "queued",
                "position": position,
                "wait_minutes": minutes,
                "text": self.actions.policy.wait_text(position, wait, state.language),
            },
        )

    # --- presence --------------------------------------------------------------------------------
    def connect(self, connection: ConsoleConnection) -> None:
        """An advisor's console opened: they are online."""
        account = connection.account
        self.people[account.id] = account
        self.connections[account.id].add(connection)
        self.offline_since.pop(account.id, None)
        self._teams_changed = True
        for team in account.teams:
            self._dirty_teams.add(team)
        self._wake.set()

    def disconnect(self, connection: ConsoleConnection) -> None:
        """A console closed; the advisor is offline when it was their last."""
        advisor_id = connection.account.id
        self.connections[advisor_id].discard(connection)
        for conversation_id in connection.watching:
            self.watchers[conversation_id].discard(connection)
            if not self.watchers[conversation_id]:
                del self.watchers[conversation_id]
        if not self.connections[advisor_id]:
            del self.connections[advisor_id]
            self.offline_since[advisor_id] = self.clock()
            self._teams_changed = True
            for team in connection.account.teams:
                self._dirty_teams.add(team)
            self._wake.set()

    def online(self, advisor_id: int) -> bool:
        """Whether an advisor has a console open."""
        return bool(self.connections.get(advisor_id))

    async def account_changed(self, account: Account) -> None:
        """An admin changed an account: consoles see the new teams; a deactivated one is logged out."""
        self.people[account.id] = account
        for connection in list(self.connections.get(account.id, ())):
            connection.account = account
            if not account.active:
                await connection.close(code=4001, message=b"account deactivated")
        self._teams_changed = True
        self._wake.set()

    async def session_ended(self, session_key: str) -> None:
        """Logout: close the consoles opened with that session."""
        for connections in list(self.connections.values()):
            for connection in list(connections):
                if connection.session_key == session_key:
                    await connection.close(code=4001, message=b"logged out")

    def watch(self, connection: ConsoleConnection, conversation_id: str) -> None:
        """Send this console a conversation's new messages and notes."""
        connection.watching.add(conversation_id)
        self.watchers[conversation_id].add(connection)

    def unwatch(self, connection: ConsoleConnection, conversation_id: str) -> None:
        """Stop sending them."""
        connection.watching.discard(conversation_id)
        self.watchers[conversation_id].discard(connection)
        if not self.watchers[conversation_id]:
            del self.watchers[conversation_id]

    # --- timers ----------------------------------------------------------------------------------
    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.return_overdue()
            except Exception:
                logger.exception("handoff timers failed")

    async def return_overdue(self) -> int:
        """Return conversations whose holder did not reply in time or stayed offline too long."""
        now = self.clock()
        returned = 0
        grace = dt.timedelta(seconds=self.settings.offline_grace_seconds)
        timeout = dt.timedelta(minutes=self.settings.reply_timeout_minutes)
        for advisor_id, since in list(self.offline_since.items()):
            if now - since < grace:
                continue
            del self.offline_since[advisor_id]
            for entry in self.queues.held_by(advisor_id):
                returned += await self._return(entry, "returned_offline")
        for entry in self.queues:
            if (
                entry.status == "assigned"
                and entry.awaiting_reply_since is not None
                and now - entry.awaiting_reply_since >= timeout
            ):
                returned += await self._return(entry, "returned_no_reply")
        return returned

    async def _return(self, entry: Entry, reason: str) -> int:
        advisor_id = entry.assigned_to
        if advisor_id is None:
            return 0
        holder = self.people.get(advisor_id)
        try:
            await self.core.act(
                entry.id, self.actions.auto_return(advisor_id, holder.display_name if holder else None, reason)
            )
        except (Refused, LookupError):
            return 0
        for connection in self.connections.get(advisor_id, ()):
            connection.send({"type": "notice", "code": reason, "conversation": entry.id})
        logger.info("conversation returned to queue", extra={"conversation": entry.id, "why": reason})
        return 1

    # --- advisors' actions -----------------------------------------------------------------------
    def holder_name(self, advisor_id: int | None) -> str | None:
        """The display name of an advisor, if known."""
        person = self.people.get(advisor_id) if advisor_id else None
        return person.display_name if person else None

    async def run(self, conversation_id: str, change: ChangeFunction) -> tuple[ConversationState, Any]:
        """Apply an advisor's change through the core; returns the state and the change's outcome."""
        state, done, _ = await self.core.act(conversation_id, change)
        return state, done

    async def claim(self, account: Account, conversation_id: str) -> Entry:
        """Take a conversation from the queue, if there is room (see Actions.claim for the race)."""
        async with self._claiming[account.id]:
            if self.queues.holding(account.id) >= account.capacity:
                raise Refused("at_capacity", 409, "you hold as many conversations as your capacity allows")
            await self.run(conversation_id, self.actions.claim(account, lambda i: self.holder_name(i) or "?"))
        entry = self.queues.get(conversation_id)
        assert entry is not None
        return entry

    async def transfer(
        self, account: Account, conversation_id: str, *, team: str | None, advisor: int | None, note: str | None
    ) -> Entry | None:
        """To another team's queue, or straight to a named advisor who is online and has room."""
        entry = self.queues.get(conversation_id)
        holder = self.holder_name(entry.assigned_to if entry else None)
        if advisor is not None:
            target = self.people.get(advisor) or await self.accounts.get(advisor)
            if target is None or not target.active or not target.handles_conversations:
                raise Refused("not_found", 404, "no such advisor")
            if not self.online(target.id):
                raise Refused("wrong_state", 409, "that advisor is not online")
            async with self._claiming[target.id]:
                if self.queues.holding(target.id) >= target.capacity:
                    raise Refused("at_capacity", 409, "that advisor has no room")
                await self.run(conversation_id, self.actions.transfer_to_advisor(account, target, note, holder))
            for connection in self.connections.get(target.id, ()):
                connection.send({"type": "notice", "code": "transferred_to_you", "conversation": conversation_id})
        elif team is not None:
            await self.run(conversation_id, self.actions.transfer_to_team(account, team, note, holder))
        else:
            raise Refused("bad_request", 400, "give a team or an advisor", field="team")
        return self.queues.get(conversation_id)


def console_message(message: Outbound) -> dict[str, Any]:
    """The API's Message object: a stored message with the bot's reading of a citizen's words."""
    return {
        "seq": message.seq,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "at": message.created_at.isoformat(timespec="seconds"),
        "author": message.author,
        "buttons": [button.as_dict() for button in message.buttons],
        "reading": dict(message.reading) if message.reading else None,
        "redactions": list(message.reading.get("redactions") or []) if message.reading else [],
    }
