"""The order of decisions, as a table: crisis, then a human, then fallback, then an answer."""

from __future__ import annotations

import pytest

from nlu.contract import IntentScore
from nlu.crisis import default_detector
from nlu.interpreter import Interpreter
from nlu.language import LanguageIdentifier
from nlu.model import IntentInfo
from nlu.settings import NluSettings

INTENTS = {
    "income_support_apply": IntentInfo("income_support_apply", "income_support", "answer"),
    "income_support_housing": IntentInfo("income_support_housing", "income_support", "answer"),
    "debt_advice_help": IntentInfo("debt_advice_help", "debt_advice", "answer"),
    "greet": IntentInfo("greet", "none", "answer"),
    "human_request": IntentInfo("human_request", "none", "handoff"),
    "crisis": IntentInfo("crisis", "none", "crisis"),
    "out_of_scope": IntentInfo("out_of_scope", "none", "fallback"),
}


class Table:
    """An engine that answers a fixed ranking, so the decision rules can be read as a table."""

    name = "table"

    def __init__(self) -> None:
        self.ranking: list[IntentScore] = []

    async def rank(self, text: str, language: str, *, normalized: str | None = None) -> list[IntentScore]:
        return self.ranking

    async def close(self) -> None:
        return None


@pytest.fixture
def table() -> Table:
    return Table()


@pytest.fixture
def interpreter(table: Table) -> Interpreter:
    identifier = LanguageIdentifier.train(["miten haen toimeentulotukea", "hur söker jag", "how do I apply"])
    return Interpreter(table, INTENTS, identifier, default_detector(), NluSettings())


def ranking(**scores: float) -> list[IntentScore]:
    return [IntentScore(name, value) for name, value in sorted(scores.items(), key=lambda item: -item[1])]


@pytest.mark.parametrize(
    ("text", "scores", "intent", "topic", "action"),
    [
        # an answer: the top intent and its topic
        (
            "miten haen toimeentulotukea",
            {"income_support_apply": 0.8, "greet": 0.1},
            "income_support_apply",
            "income_support",
            "answer",
        ),
        # too unsure: fallback with topic none
        (
            "miten haen toimeentulotukea",
            {"income_support_apply": 0.3, "debt_advice_help": 0.25},
            "nlu_fallback",
            "none",
            "fallback",
        ),
        # out of scope: fallback, the intent named
        ("miten haen toimeentulotukea", {"out_of_scope": 0.9}, "out_of_scope", "none", "fallback"),
        # a human, with the service it mentions
        (
            "miten haen toimeentulotukea",
            {"human_request": 0.6, "income_support_apply": 0.2, "income_support_housing": 0.15},
            "human_request",
            "income_support",
            "handoff",
        ),
        # a human, no service: topic none
        ("miten haen toimeentulotukea", {"human_request": 0.95, "greet": 0.03}, "human_request", "none", "handoff"),
        # the classifier's crisis probability alone is enough above its threshold
        (
            "miten haen toimeentulotukea",
            {"income_support_apply": 0.5, "crisis": 0.45},
            "crisis",
            "income_support",
            "crisis",
        ),
        # a greeting is an answer with topic none
        ("miten haen toimeentulotukea", {"greet": 0.9}, "greet", "none", "answer"),
    ],
)
async def test_decisions(
    interpreter: Interpreter, table: Table, text: str, scores: dict[str, float], intent: str, topic: str, action: str
) -> None:
    table.ranking = ranking(**scores)
    result = await interpreter.parse(text)
    assert (result.intent, result.topic, result.action) == (intent, topic, action)


async def test_a_crisis_pattern_wins_even_when_the_classifier_is_sure_of_a_service(
    interpreter: Interpreter, table: Table
) -> None:
    table.ranking = ranking(income_support_apply=0.99)
    result = await interpreter.parse("toimeentulotuki hylättiin ja haluan kuolla")
    assert result.action == "crisis"
    assert result.confidence == 1.0
    assert "fi.suicide.want_to_die" in result.crisis_reasons


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "12345", "!!!???"])
async def test_text_without_letters_is_a_fallback_without_asking_the_engine(
    interpreter: Interpreter, table: Table, text: str
) -> None:
    table.ranking = ranking(income_support_apply=0.99)
    result = await interpreter.parse(text)
    assert (result.intent, result.action, result.topic, result.confidence) == ("nlu_fallback", "fallback", "none", 0.0)


async def test_words_the_content_never_used_are_a_fallback(interpreter: Interpreter, table: Table) -> None:
    table.ranking = ranking(income_support_apply=0.9)
    result = await interpreter.parse("qwxz vbnm")
    assert result.action == "fallback"


async def test_the_hint_decides_the_language_of_text_with_no_clue(interpreter: Interpreter, table: Table) -> None:
    table.ranking = ranking(greet=0.9)
    assert (await interpreter.parse("😀", "sv")).language == "sv"
    assert (await interpreter.parse("😀")).language == "fi"


def test_warming_up_reads_every_text(model) -> None:  # type: ignore[no-untyped-def]
    from nlu.crisis import default_detector
    from nlu.interpreter import Interpreter as Real
    from nlu.settings import NluSettings

    real = Real(model.engine, model.intents, model.identifier, default_detector(), NluSettings())
    assert real.warm_up(["moi", "miten haen toimeentulotukea", "😀", ""]) == 4
