"""The dialogue policy as conversation scripts: what the citizen does, what the bot answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Config
from bot.dialogue.admission import Admission
from bot.dialogue.core import DialogueCore
from bot.dialogue.model import Inbound
from bot.dialogue.policy import DialoguePolicy, format_date
from bot.dialogue.state import ConversationState
from bot.messages import Messages
from bot.storage.schema import ConversationStat, Event, Feedback
from bot.storage.store import Store
from handoff.hours import parse_office_hours
from nlu.content import Content
from nlu.interpreter import Interpreter

#: A step: text the citizen types, or a button action ("/helpful:no"); and the kinds of reply expected.
Step = tuple[str, Sequence[str]]


@pytest.fixture
async def core(engine, interpreter: Interpreter, content: Content, test_config: Config) -> DialogueCore:
    messages = Messages.load(test_config.nlu.content_dir.parent / "messages.yml")
    policy = DialoguePolicy(content, messages, test_config, test_config.dialogue, retention_days=90)
    store = Store(engine)
    return DialogueCore(store, interpreter, policy)


async def run_script(core: DialogueCore, steps: Sequence[Step], language: str = "fi") -> str:
    """Play a conversation; each step's reply kinds must be as written. Returns the conversation id."""
    state, _, opening = await core.open("web", language)
    assert [m.kind for m in opening] == ["privacy", "answer", "menu"]
    for number, (said, expected) in enumerate(steps):
        if said.startswith("/"):
            inbound = Inbound(state.id, action=said, label=said, client_id=f"s{number}")
        else:
            inbound = Inbound(state.id, text=said, client_id=f"s{number}")
        receipt = await core.receive(inbound)
        replies = [m.kind for m in receipt.messages if m.sender != "citizen"]
        assert replies == list(expected), f"step {number} {said!r}: {replies} != {list(expected)}"
    return state.id


async def test_an_answered_question_asks_whether_it_helped_and_yes_offers_to_end(core) -> None:
    await run_script(
        core,
        [
            ("miten haen toimeentulotukea", ["answer", "question"]),
            ("/helpful:yes", ["text"]),
        ],
    )


async def test_an_unhelpful_answer_offers_related_subjects_and_a_person(core) -> None:
    conversation = await run_script(
        core,
        [
            ("mitä liitteitä toimeentulotukihakemukseen tarvitaan", ["answer", "question"]),
            ("/helpful:no", ["suggestions"]),
        ],
    )
    state = await core.conversation(conversation)
    history = await core.store.history(conversation)
    actions = [b.action for b in history[-1].buttons]
    assert "/human" in actions
    assert any(action.startswith("/intent:income_support") for action in actions)
    assert state.topic == "income_support"


async def test_two_misses_in_a_row_offer_a_person(core) -> None:
    conversation = await run_script(
        core,
        [
            ("qwzx plorf", ["fallback"]),
            ("zzkq vbnm", ["offer_human"]),
        ],
    )
    history = await core.store.history(conversation)
    assert history[-1].buttons[0].action == "/human"


async def test_an_understood_message_resets_the_misses(core) -> None:
    await run_script(
        core,
        [
            ("qwzx plorf", ["fallback"]),
            ("miten haen päiväkotipaikkaa", ["answer", "question"]),
            ("zzkq vbnm", ["fallback"]),
        ],
    )


async def test_out_of_scope_is_said_honestly_with_topics(core) -> None:
    conversation = await run_script(core, [("mikä on huomenna sää helsingissä", ["fallback"])])
    history = await core.store.history(conversation)
    assert "116 117" in history[-1].text
    assert history[-1].buttons


async def test_asking_for_a_person_queues_the_conversation_and_the_bot_goes_quiet(core) -> None:
    conversation = await run_script(
        core,
        [
            ("haluan puhua ihmisen kanssa", ["handoff"]),
            ("asia koskee toimeentulotukea", ["notice"]),
            ("onko siellä ketään", []),
            ("/human", ["notice"]),
        ],
    )
    state = await core.conversation(conversation)
    assert (state.status, state.handoff_reason, state.priority) == ("queued", "requested", 0)


async def test_the_citizen_can_return_from_the_queue_to_the_bot(core) -> None:
    conversation = await run_script(
        core,
        [
            ("voinko puhua sosiaaliohjaajan kanssa", ["handoff"]),
            ("/cancel_handoff", ["notice"]),
            ("miten haen toimeentulotukea", ["answer", "question"]),
        ],
    )
    assert (await core.conversation(conversation)).status == "bot"


async def test_a_crisis_gets_guidance_at_once_and_a_priority_handoff(core, engine) -> None:
    conversation = await run_script(core, [("en jaksa enää elää, kaikki on ihan turhaa", ["crisis", "notice"])])
    state = await core.conversation(conversation)
    assert (state.status, state.priority, state.handoff_reason) == ("queued", 1, "crisis")
    history = await core.store.history(conversation)
    guidance = next(m for m in history if m.kind == "crisis")
    assert "112" in guidance.text
    assert "09 2525 0111" in guidance.text
    async with engine.connect() as connection:
        names = set((await connection.execute(select(Event.__table__.c.name))).scalars())
    assert {"crisis_detected", "handoff_requested"} <= names


async def test_a_crisis_is_answered_even_while_waiting_for_a_person(core) -> None:
    await run_script(
        core,
        [
            ("haluan puhua ihmisen kanssa", ["handoff"]),
            ("mä haluun kuolla", ["crisis", "notice"]),
        ],
    )


async def test_greeting_thanks_and_goodbye(core) -> None:
    await run_script(
        core,
        [
            ("hei", ["answer", "menu"]),
            ("kiitos paljon", ["answer"]),
            ("näkemiin", ["answer"]),
        ],
    )


async def test_the_topic_menu_leads_to_subjects_and_answers(core) -> None:
    conversation = await run_script(
        core,
        [
            ("/topic:elderly", ["menu"]),
            ("/intent:elderly_safety_phone", ["answer", "question"]),
            ("/menu:more", ["menu"]),
        ],
    )
    history = await core.store.history(conversation)
    assert any("turvapuhel" in m.text.lower() for m in history if m.kind == "answer")


async def test_the_conversation_language_follows_the_citizen_and_can_be_switched(core) -> None:
    conversation = await run_script(
        core,
        [
            ("hur ansöker jag om utkomststöd", ["answer", "question"]),
            ("/lang:en", ["notice"]),
            ("ok", ["fallback"]),
        ],
    )
    state = await core.conversation(conversation)
    history = await core.store.history(conversation)
    assert state.language == "en"
    assert history[2 + 1 + 1].language == "sv"  # the answer after the Swedish question
    assert history[-1].language == "en"


async def test_personal_data_is_removed_before_storage_and_the_citizen_is_told(core) -> None:
    conversation = await run_script(
        core,
        [
            ("mun hetu on 131052-308T ja puh 040 123 4567, saanko toimeentulotukea", ["notice", "answer", "question"]),
        ],
    )
    history = await core.store.history(conversation)
    stored = next(m for m in history if m.sender == "citizen")
    assert "131052" not in stored.text
    assert "4567" not in stored.text
    assert "[hetu]" in stored.text
    assert "[phone]" in stored.text
    notice = next(m for m in history if m.kind == "notice")
    assert "henkilötunnuksen" in notice.text
    assert "puhelinnumeron" in notice.text


async def test_ending_asks_for_feedback_and_stores_it_with_the_statistics(core, engine) -> None:
    conversation = await run_script(
        core,
        [
            ("miten haen toimeentulotukea", ["answer", "question"]),
            ("/end", ["feedback"]),
            ("/thumbs:up", ["feedback"]),
            ("/nps:9", ["feedback"]),
            ("todella selkeä palvelu, kiitos", ["notice"]),
            ("vielä yksi kysymys", ["notice"]),
        ],
    )
    state = await core.conversation(conversation)
    assert state.status == "closed"
    async with engine.connect() as connection:
        feedback = (await connection.execute(select(Feedback.__table__))).mappings().one()
        stat = (await connection.execute(select(ConversationStat.__table__))).mappings().one()
    assert (feedback["thumbs"], feedback["nps"], feedback["comment"]) == ("up", 9, "todella selkeä palvelu, kiitos")
    assert (stat["thumbs"], stat["nps"], stat["topic"], stat["channel"]) == ("up", 9, "income_support", "web")
    assert stat["citizen_messages"] == 5  # counted when the conversation closed and the feedback came


async def test_feedback_steps_can_be_skipped(core) -> None:
    await run_script(
        core,
        [
            ("/end", ["feedback"]),
            ("/skip", ["feedback"]),
            ("/skip", ["feedback"]),
            ("/skip", ["notice"]),
        ],
    )


@dataclass(frozen=True)
class ClosedNow:
    """Admissions of a team that is closed now and answers left messages: with its weekly hours, or none."""

    hours: Mapping[str, str]

    def admit(self, state: ConversationState, *, crisis: bool, now: dt.datetime) -> Admission:
        return Admission(
            "child_maintenance",
            queue=False,
            why="closed",
            team_name={"fi": "Lastenvalvojat", "sv": "Barnatillsyningsmän", "en": "Child supervisors"},
            hours=self.hours,
            reply_by=dt.date(2030, 1, 7),
        )


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
async def test_a_closed_team_tells_its_hours_and_a_team_that_never_opens_tells_none(
    engine, interpreter: Interpreter, content: Content, test_config: Config, language: str
) -> None:
    zone = ZoneInfo("Europe/Helsinki")
    weekdays = parse_office_hours({"weekly": {"mon-fri": "08:00-16:00"}}, zone)
    never = parse_office_hours("closed", zone)  # hours: closed; the desk then gives no hours (handoff/desk.py)
    messages = Messages.load(test_config.nlu.content_dir.parent / "messages.yml")
    offers = {}
    for name, hours in (("weekdays", {lang: weekdays.describe(lang) for lang in ("fi", "sv", "en")}), ("never", {})):
        policy = DialoguePolicy(
            content, messages, test_config, test_config.dialogue, retention_days=90, admissions=ClosedNow(hours)
        )
        core = DialogueCore(Store(engine), interpreter, policy)
        state, _, _ = await core.open("web", language)
        receipt = await core.receive(Inbound(state.id, action="/human", label="/human", client_id="h"))
        [offer] = [m.text for m in receipt.messages if m.kind == "offer_message"]
        offers[name] = offer

    opening = {"fi": "Chat on avoinna {}.", "sv": "Chatten är öppen {}.", "en": "The chat is open {}."}[language]
    assert opening.format(weekdays.describe(language)) in offers["weekdays"]
    # A team that never opens: the same offer without the opening-hours sentence, and it never says "closed".
    never_open = {
        "fi": "Neuvojat (Lastenvalvojat) eivät päivystä chatissa. Voit jättää viestin",
        "sv": "Rådgivarna (Barnatillsyningsmän) är inte tillgängliga i chatten. Du kan lämna ett meddelande",
        "en": "The advisors (Child supervisors) are not available in the chat. You can leave a message",
    }[language]
    assert offers["never"].startswith(never_open), offers["never"]
    assert opening.split(" {}")[0] not in offers["never"]
    assert never.describe(language) not in offers["never"]
    assert format_date(dt.date(2030, 1, 7), language) in offers["never"]
    assert offers["never"].endswith(offers["weekdays"].split(". ", 2)[-1])  # the rest is the same
