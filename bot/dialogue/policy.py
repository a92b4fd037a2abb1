"""The dialogue policy: what the bot says and does next, given the conversation and the reading of a message.

The policy changes the :class:`ConversationState` it is given and returns a
:class:`Turn`; it does no I/O, so every rule can be tested as a table of turns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from nlu.content import Content, IntentSpec
from nlu.contract import LANGUAGES, SERVICE_TOPICS, ParseResult

from ..answers import Facts, pick, render
from ..config import DialogueSettings
from ..messages import Messages
from .admission import Admission, Admissions, QueueEverything, new_reference, reference_hash
from .model import Button, Reply
from .state import ConversationState

#: Topics offered first in the menu; the rest sit behind "More topics".
MENU_TOPICS: Final = ("income_support", "families", "early_education", "elderly", "disability", "debt_advice")
MORE_TOPICS: Final = tuple(topic for topic in SERVICE_TOPICS if topic not in MENU_TOPICS)
#: Intents that answer and then show the topic menu instead of asking "Did this help?".
MENU_AFTER: Final = frozenset({"greet", "bot_capabilities"})
SUGGESTIONS: Final = 3
#: Each language by its own name: what a citizen looks for when the chat is in a language they do not read.
LANGUAGE_NAMES: Final = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
_WEEKDAYS: Final = {
    "fi": ("ma", "ti", "ke", "to", "pe", "la", "su"),
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(day: dt.date, language: str) -> str:
    """A date as people write it in each language: ``ti 1.12.2026``, ``tis 1.12.2026``, ``Tue 1 Dec 2026``."""
    weekday = _WEEKDAYS.get(language, _WEEKDAYS["fi"])[day.weekday()]
    if language == "en":
        return f"{weekday} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{weekday} {day.day}.{day.month}.{day.year}"


@dataclass
class Turn:
    """The outcome of one citizen message or button press."""

    replies: list[Reply] = field(default_factory=list)
    #: Events to record, named for what happened: (name, data).
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Feedback fields given in this turn (thumbs, nps, comment).
    feedback: dict[str, Any] = field(default_factory=dict)
    #: How the citizen's own message is stored when it is more than text (``left_message``).
    citizen_kind: str | None = None


class DialoguePolicy:
    """Greeting and topic menu, answers with "Did this help?", suggestions, handoff, crisis, feedback."""

    def __init__(
        self,
        content: Content,
        messages: Messages,
        facts: Facts,
        settings: DialogueSettings,
        *,
        retention_days: int,
        admissions: Admissions | None = None,
    ) -> None:
        self.content = content
        self.messages = messages
        self.facts = facts
        self.settings = settings
        self.retention_days = retention_days
        self.admissions: Admissions = admissions or QueueEverything()
        self._crisis = next((i for i in content.intents.values() if i.action == "crisis"), None)

    # --- phrases ---------------------------------------------------------------
    def say(self, key: str, language: str, **values: Any) -> str:
        """A phrase of ``data/messages.yml`` with its placeholders filled."""
        text = self.messages.get(key, language)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return render(text, self.facts, language)

    def answer_text(self, intent: IntentSpec, language: str) -> str:
        """An intent's answer in a language, with the county's facts filled in."""
        return render(pick(intent.answer, language), self.facts, language)

    def title(self, intent: IntentSpec, language: str) -> str:
        """The intent's button label in a language."""
        return pick(intent.title, language) if intent.title else intent.name

    # --- menus -------------------------------------------------------------------
    def topic_buttons(
        self, language: str, topics: Iterable[str] = MENU_TOPICS, *, more: bool = True
    ) -> tuple[Button, ...]:
        """Buttons for topics, with "More topics" after the short list."""
        buttons = [Button(self.say(f"topic.{topic}", language), f"/topic:{topic}") for topic in topics]
        if more:
            buttons.append(Button(self.say("more_topics", language), "/menu:more"))
        return tuple(buttons)

    def intent_buttons(self, intents: Iterable[IntentSpec], language: str) -> list[Button]:
        """Buttons that answer an intent directly."""
        return [Button(self.title(intent, language), f"/intent:{intent.name}") for intent in intents]

    def human_button(self, language: str) -> Button:
        """The button that asks for a person."""
        return Button(self.say("talk_to_person", language), "/human")

    def menu(self, language: str) -> Reply:
        """The topic menu."""
        return Reply(self.say("menu_prompt", language), "menu", self.topic_buttons(language))

    # --- opening -----------------------------------------------------------------
    def opening(self, state: ConversationState) -> list[Reply]:
        """What a new conversation starts with: the privacy notice, then a greeting and the menu."""
        language = state.language
        replies = [Reply(self.say("privacy_notice", language, days=self.retention_days), "privacy", sender="system")]
        greet = self.content.intents.get("greet")
        greeting = self.answer_text(greet, language) if greet and greet.answer else ""
        if greeting:
            replies.append(Reply(greeting, "answer"))
        replies.append(self.menu(language))
        return replies

    def greet_again(self, state: ConversationState) -> list[Reply]:
        """What the bot says when a person hands the conversation back: its greeting and the menu."""
        greet = self.content.intents.get("greet")
        greeting = self.answer_text(greet, state.language) if greet and greet.answer else ""
        return [*([Reply(greeting, "answer")] if greeting else []), self.menu(state.language)]

    def wait_text(self, position: int | None, wait_seconds: float | None, language: str) -> str:
        """The citizen's place and estimated wait ("number 2, about 4 min"); empty when the place is unknown."""
        if position is None:
            return ""
        if wait_seconds is None:
            wait = self.say("wait_unknown", language)
        elif wait_seconds < 60:
            wait = self.say("wait_under_minute", language)
        else:
            wait = self.say("wait_minutes", language, minutes=max(1, round(wait_seconds / 60)))
        return self.say("handoff_queue_position", language, position=position, wait=wait)

    # --- typed messages -----------------------------------------------------------
    def on_text(self, state: ConversationState, reading: ParseResult, redacted: tuple[str, ...] = ()) -> Turn:
        """A message the citizen typed, already redacted and read by the NLU."""
        turn = Turn()
        self._follow_language(state, reading, turn)
        language = state.language
        if redacted:
            turn.replies.append(Reply(self._redaction_notice(redacted, language), "notice", sender="system"))
            turn.events.append(("message_redacted", {"kinds": sorted(set(redacted))}))
        if reading.action == "crisis":
            self._crisis_turn(state, reading, turn)
            return turn
        if state.status == "closed":
            if state.awaiting == "comment":
                turn.feedback["comment"] = reading.text
                self._finish_feedback(state, turn)
            else:
                turn.replies.append(
                    Reply(
                        self.say("conversation_closed", language),
                        "notice",
                        (Button(self.say("new_chat", language), "/new"),),
                    )
                )
            return turn
        if state.status in ("queued", "assigned"):
            # A person has the conversation, or will: the bot stays silent (crisis guidance excepted).
            if state.status == "queued" and not state.dialogue.get("waiting_noted"):
                state.dialogue["waiting_noted"] = True
                turn.replies.append(Reply(self.say("handoff_waiting_note", language), "notice", sender="system"))
            return turn
        if state.awaiting == "message_text":
            self._leave_message(state, reading, turn)
            return turn
        state.dialogue.pop("awaiting", None)
        if reading.action == "handoff":
            self._start_handoff(state, "requested", reading.topic, turn)
        elif reading.action == "fallback":
            self._miss(state, reading, turn)
        else:
            intent = self.content.intents.get(reading.intent)
            if intent is None:
                self._miss(state, reading, turn)
            else:
                self._answer(state, intent, turn)
        return turn

    # --- buttons -------------------------------------------------------------------
    def on_action(self, state: ConversationState, action: str) -> Turn:
        """A pressed button (or an equivalent command)."""
        turn = Turn()
        language = state.language
        name, _, argument = action.partition(":")
        if name == "/lang" and argument not in LANGUAGES:
            choices = tuple(Button(LANGUAGE_NAMES[code], f"/lang:{code}") for code in LANGUAGES)
            turn.replies.append(Reply(self.say("choose_language", language), "menu", choices, sender="system"))
            return turn
        if name == "/privacy":
            # What is stored and for how long: asked for, so answered in any state (a notice, not the bot talking).
            turn.replies.append(
                Reply(self.say("privacy_notice", language, days=self.retention_days), "privacy", sender="system")
            )
            if state.channel != "web":
                turn.replies.append(Reply(self.say("privacy_chat", language), "privacy", sender="system"))
            return turn
        if name == "/lang":
            if argument != state.language:
                turn.events.append(("language_changed", {"from": state.language, "to": argument, "by": "citizen"}))
            state.language = argument
            state.dialogue["language_locked"] = True
            turn.replies.append(Reply(self.say("language_switched", argument), "notice", sender="system"))
            return turn
        if name in ("/thumbs", "/nps", "/skip") and state.awaiting in ("thumbs", "nps", "comment"):
            self._feedback_step(state, name, argument, turn)
            return turn
        if name == "/end":
            self._end(state, turn)
            return turn
        if state.status == "closed":
            turn.replies.append(
                Reply(
                    self.say("conversation_closed", language),
                    "notice",
                    (Button(self.say("new_chat", language), "/new"),),
                )
            )
            return turn
        if name == "/cancel_handoff":
            if state.status == "queued":
                state.status = "bot"
                state.priority = 0
                turn.events.append(("handoff_cancelled", {"by": "citizen"}))
                turn.replies.append(Reply(self.say("handoff_cancelled", language), "notice", sender="system"))
            return turn
        if state.status in ("queued", "assigned"):
            if name == "/human":
                turn.replies.append(Reply(self.say("handoff_already", language), "notice", sender="system"))
            return turn
        if name == "/leave_message":
            self._ask_for_message(state, turn)
            return turn
        state.dialogue.pop("awaiting", None)
        if name == "/human":
            reason = "not_understood" if state.misses else "requested"
            self._start_handoff(state, reason, state.topic or "none", turn)
        elif name == "/intent" and argument in self.content.intents:
            self._answer(state, self.content.intents[argument], turn)
        elif name == "/topic" and argument in SERVICE_TOPICS:
            state.topic = argument
            intents = [i for i in self.content.intents.values() if i.topic == argument and i.action == "answer"]
            buttons = [*self.intent_buttons(intents, language), self.human_button(language)]
            turn.replies.append(Reply(self.say("choose_subject", language), "menu", tuple(buttons)))
        elif name == "/menu" and argument == "more":
            turn.replies.append(
                Reply(self.say("menu_prompt", language), "menu", self.topic_buttons(language, MORE_TOPICS, more=False))
            )
        elif name == "/start":
            turn.replies.extend(self.greet_again(state))
        elif name == "/helpful":
            self._rated(state, argument == "yes", turn)
        elif name == "/miss":
            self._miss(state, None, turn)
        else:
            turn.replies.append(self.menu(language))
        return turn

    # --- rules -----------------------------------------------------------------------
    def _follow_language(self, state: ConversationState, reading: ParseResult, turn: Turn) -> None:
        """Take the language from the first clear message; later, switch only on a clear longer message."""
        if reading.language_source != "text" or reading.language == state.language:
            if reading.language_source == "text":
                state.dialogue["language_locked"] = True
            return
        if state.language_locked and len(reading.text.split()) < 3:
            return
        turn.events.append(("language_changed", {"from": state.language, "to": reading.language, "by": "detected"}))
        state.language = reading.language
        state.dialogue["language_locked"] = True

    def _redaction_notice(self, kinds: tuple[str, ...], language: str) -> str:
        names = [self.say(f"redacted_{kind}", language) for kind in dict.fromkeys(kinds)]
        what = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {self.say('and', language)} {names[-1]}"
        return self.say("redacted", language, what=what)

    def _crisis_turn(self, state: ConversationState, reading: ParseResult, turn: Turn) -> None:
        language = state.language
        guidance = self.answer_text(self._crisis, language) if self._crisis and self._crisis.answer else ""
        turn.replies.append(Reply(guidance or self.say("crisis_handoff", language), "crisis"))
        turn.events.append(
            ("crisis_detected", {"reasons": list(reading.crisis_reasons), "confidence": reading.confidence})
        )
        state.dialogue["crisis"] = True
        if reading.topic in SERVICE_TOPICS:
            state.topic = reading.topic
        if state.status == "closed":
            state.status = "bot"
            state.closed_at = None
        admission: Admission | None = None
        if state.status == "bot":
            admission = self._start_handoff(state, "crisis", reading.topic, turn, announce=False)
        elif state.status == "queued" and state.priority == 0:
            turn.events.append(("handoff_prioritised", {"reason": "crisis"}))
        state.priority = 1
        state.handoff_reason = "crisis"
        staffed = admission is None or admission.why is None
        key = "crisis_handoff" if staffed else "crisis_handoff_unstaffed"
        turn.replies.append(Reply(self.say(key, language), "notice", sender="system"))

    def _start_handoff(
        self, state: ConversationState, reason: str, topic: str, turn: Turn, *, announce: bool = True
    ) -> Admission:
        """Queue the conversation for a person, or, when the queue would not answer, offer leave-a-message.

        A crisis is always queued, first, at any hour: the guidance comes from the bot at once and
        the first advisor on duty sees the conversation at the top of the queue.
        """
        if topic in SERVICE_TOPICS:
            state.topic = topic
        now = dt.datetime.now(dt.UTC)
        crisis = reason == "crisis"
        admission = self.admissions.admit(state, crisis=crisis, now=now)
        state.team = admission.team
        state.dialogue["misses"] = 0
        if not admission.queue and not crisis:
            self._offer_message(state, admission, turn)
            return admission
        state.status = "queued"
        state.handoff_reason = reason
        state.handoff_at = now
        state.queued_at = now
        state.priority = 1 if crisis else 0
        state.dialogue.pop("waiting_noted", None)
        state.dialogue.pop("awaiting", None)
        turn.events.append(
            (
                "handoff_requested",
                {"reason": reason, "topic": state.topic or "none", "priority": state.priority, "team": state.team},
            )
        )
        if announce:
            language = state.language
            position = self.wait_text(admission.position, admission.wait_seconds, language)
            turn.replies.append(
                Reply(
                    " ".join(part for part in (self.say("handoff_started", language), position) if part),
                    "handoff",
                    (Button(self.say("handoff_cancel", language), "/cancel_handoff"),),
                    sender="system",
                )
            )
        return admission

    def _offer_message(self, state: ConversationState, admission: Admission, turn: Turn) -> None:
        """Say honestly why nobody can answer now, and offer to leave a message instead."""
        language = state.language
        turn.events.append(("handoff_unavailable", {"why": admission.why, "team": admission.team}))
        if state.message_waiting:
            when = format_date(state.reply_by, language) if state.reply_by else ""
            turn.replies.append(Reply(self.say("message_already", language, date=when), "notice", sender="system"))
            return
        values: dict[str, Any] = {
            "team": pick(admission.team_name, language) if admission.team_name else admission.team,
            "hours": pick(admission.hours, language) if admission.hours else "",
            "date": format_date(admission.reply_by, language) if admission.reply_by else "",
            "minutes": round(admission.max_wait_minutes or 0),
        }
        key = {"closed": "handoff_closed", "busy": "handoff_busy"}.get(admission.why or "", "handoff_nobody")
        if key == "handoff_closed" and not values["hours"]:
            key = "handoff_closed_no_hours"  # the team never opens: no opening hours to tell
        state.dialogue["awaiting"] = "leave_message"
        turn.replies.append(
            Reply(
                self.say(key, language, **values),
                "offer_message",
                (
                    Button(self.say("leave_message", language), "/leave_message"),
                    Button(self.say("handoff_cancel", language), "/menu"),
                ),
                sender="system",
            )
        )

    def _ask_for_message(self, state: ConversationState, turn: Turn) -> None:
        language = state.language
        if state.message_waiting:
            when = format_date(state.reply_by, language) if state.reply_by else ""
            turn.replies.append(Reply(self.say("message_already", language, date=when), "notice", sender="system"))
            return
        state.dialogue["awaiting"] = "message_text"
        turn.replies.append(
            Reply(
                self.say("leave_message_prompt", language),
                "question",
                (Button(self.say("handoff_cancel", language), "/menu"),),
                sender="system",
            )
        )

    def _leave_message(self, state: ConversationState, reading: ParseResult, turn: Turn) -> None:
        """The citizen's message for the team's inbox: a reference code and the date of the answer."""
        language = state.language
        now = dt.datetime.now(dt.UTC)
        state.dialogue.pop("awaiting", None)
        if reading.topic in SERVICE_TOPICS:
            state.topic = reading.topic
        admission = self.admissions.admit(state, crisis=False, now=now)
        code = new_reference()
        state.team = admission.team
        state.reference_hash = reference_hash(code)
        state.message_at = now
        state.answered_at = None
        state.reply_by = admission.reply_by
        turn.citizen_kind = "left_message"
        turn.events.append(("message_left", {"team": state.team, "reply_by": str(state.reply_by)}))
        key = "message_received_web" if state.channel == "web" else "message_received_chat"
        when = format_date(state.reply_by, language) if state.reply_by else ""
        turn.replies.append(Reply(self.say(key, language, code=code, date=when), "message_received", sender="system"))

    def _answer(self, state: ConversationState, intent: IntentSpec, turn: Turn) -> None:
        language = state.language
        state.dialogue["misses"] = 0
        text = self.answer_text(intent, language) if intent.answer else ""
        if intent.topic in SERVICE_TOPICS:
            state.topic = intent.topic
        if intent.name in MENU_AFTER:
            if text:
                turn.replies.append(Reply(text, "answer"))
            turn.replies.append(self.menu(language))
            return
        if intent.name == "goodbye":
            turn.replies.append(Reply(text, "answer", (Button(self.say("end_chat", language), "/end"),)))
            return
        if intent.topic not in SERVICE_TOPICS:
            turn.replies.append(Reply(text, "answer"))
            return
        state.dialogue["awaiting"] = "helpful"
        state.dialogue["last_intent"] = intent.name
        turn.replies.append(Reply(text, "answer"))
        turn.replies.append(
            Reply(
                self.say("did_it_help", language),
                "question",
                (
                    Button(self.say("answer_yes", language), "/helpful:yes"),
                    Button(self.say("answer_no", language), "/helpful:no"),
                ),
            )
        )

    def _rated(self, state: ConversationState, helpful: bool, turn: Turn) -> None:
        language = state.language
        last = self.content.intents.get(str(state.dialogue.get("last_intent", "")))
        turn.events.append(("answer_rated", {"intent": last.name if last else None, "helpful": helpful}))
        if helpful:
            turn.replies.append(
                Reply(self.say("helpful_yes", language), "text", (Button(self.say("end_chat", language), "/end"),))
            )
            return
        related: list[IntentSpec] = []
        if last is not None:
            names = last.related or tuple(
                i.name for i in self.content.intents.values() if i.topic == last.topic and i.name != last.name
            )
            related = [self.content.intents[n] for n in names if n in self.content.intents][:4]
        buttons = [*self.intent_buttons(related, language), self.human_button(language)]
        turn.replies.append(Reply(self.say("helpful_no", language), "suggestions", tuple(buttons)))

    def _miss(self, state: ConversationState, reading: ParseResult | None, turn: Turn) -> None:
        language = state.language
        misses = state.misses + 1
        state.dialogue["misses"] = misses
        if misses >= self.settings.misses_before_human:
            buttons = (self.human_button(language), *self.topic_buttons(language))
            turn.replies.append(Reply(self.say("fallback_offer_human", language), "offer_human", buttons))
            return
        if (
            reading is not None
            and self.content.intents.get(reading.intent, None) is not None
            and (self.content.intents[reading.intent].action == "fallback")
        ):
            turn.replies.append(Reply(self.say("out_of_scope", language), "fallback", self.topic_buttons(language)))
            return
        suggestions = self._suggestions(reading) if reading is not None else []
        if suggestions:
            buttons = (
                *self.intent_buttons(suggestions, language),
                Button(self.say("none_of_these", language), "/miss"),
            )
            turn.replies.append(Reply(self.say("did_you_mean", language), "suggestions", buttons))
        else:
            turn.replies.append(Reply(self.say("fallback", language), "fallback", self.topic_buttons(language)))

    def _suggestions(self, reading: ParseResult) -> list[IntentSpec]:
        """Service intents the engine thought possible, most likely first."""
        found: list[IntentSpec] = []
        for score in reading.ranking:
            intent = self.content.intents.get(score.name)
            if intent and intent.action == "answer" and intent.topic in SERVICE_TOPICS and score.confidence >= 0.05:
                found.append(intent)
            if len(found) == SUGGESTIONS:
                break
        return found

    def _end(self, state: ConversationState, turn: Turn) -> None:
        language = state.language
        if state.status != "closed":
            turn.events.append(("conversation_resolved", {"by": "citizen", "status": state.status}))
            state.status = "closed"
            state.closed_at = dt.datetime.now(dt.UTC)
        state.dialogue["awaiting"] = "thumbs"
        turn.replies.append(
            Reply(
                self.say("feedback_thumbs", language),
                "feedback",
                (
                    Button(self.say("thumbs_up", language), "/thumbs:up"),
                    Button(self.say("thumbs_down", language), "/thumbs:down"),
                    Button(self.say("skip", language), "/skip"),
                ),
            )
        )

    def _feedback_step(self, state: ConversationState, name: str, argument: str, turn: Turn) -> None:
        language = state.language
        awaiting = state.awaiting
        if awaiting == "thumbs":
            if name == "/thumbs" and argument in ("up", "down"):
                turn.feedback["thumbs"] = argument
            state.dialogue["awaiting"] = "nps"
            scale = tuple(Button(str(n), f"/nps:{n}") for n in range(11))
            turn.replies.append(
                Reply(
                    self.say("feedback_nps", language),
                    "feedback",
                    (*scale, Button(self.say("skip", language), "/skip")),
                )
            )
        elif awaiting == "nps":
            if name == "/nps" and argument.isdigit() and 0 <= int(argument) <= 10:
                turn.feedback["nps"] = int(argument)
            state.dialogue["awaiting"] = "comment"
            turn.replies.append(
                Reply(
                    self.say("feedback_comment", language), "feedback", (Button(self.say("skip", language), "/skip"),)
                )
            )
        else:
            self._finish_feedback(state, turn)

    def _finish_feedback(self, state: ConversationState, turn: Turn) -> None:
        language = state.language
        state.dialogue.pop("awaiting", None)
        turn.events.append(("feedback_given", {}))
        turn.replies.append(
            Reply(self.say("feedback_thanks", language), "notice", (Button(self.say("new_chat", language), "/new"),))
        )
