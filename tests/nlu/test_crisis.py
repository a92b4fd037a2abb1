"""Crisis detection: recall first, false alarms kept rare, and never hidden by another question."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.content import Content
from nlu.crisis import CrisisDetector, default_detector, required_literals
from nlu.interpreter import Interpreter
from nlu.text import fold, normalize

DATA = Path(__file__).resolve().parent.parent / "data"


def contrast_messages() -> list[str]:
    lines = (DATA / "crisis_contrast.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def labelled_cases(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


CASE_SETS = ["dev_cases.jsonl", "holdout_cases.jsonl", "fresh_cases.jsonl"]


@pytest.mark.parametrize(
    "message",
    [
        # suicidal thoughts, direct and indirect, three languages
        "en halua enää elää",
        "mä en jaksa enää elää tätä elämää",
        "kaikilla ois parempi ilman mua",
        "haluun vaan nukkua enkä herätä",
        "jag vill inte leva längre",
        "jag tänker ta livet av mig",
        "I don't want to live anymore",
        "everyone would be better off without me",
        # self-harm, overdose
        "viiltelen taas itseäni",
        "otin koko purkin unilääkkeitä",
        "I took all my pills",
        # violence and threats happening now
        "mies lyö mua ja oon lukinnu itteni vessaan",
        "ex uhkaa tappaa mut",
        "min man slår mig",
        "my dad is hitting my mum",
        # a child in danger
        "äiti on niin kännissä etten uskalla mennä kotiin",
        "oon 12 ja isä lyö",
        # missing vulnerable person, nowhere to sleep
        "muistisairas isä on kadonnut ja ulkona on pakkasta",
        "meillä ei ole yöpaikkaa lasten kanssa tänä yönä",
        "nowhere to sleep tonight with my kids",
    ],
)
def test_curated_patterns_catch_clear_crises_in_every_language(message: str) -> None:
    assert default_detector().matches(message), message


def test_a_weak_word_is_evidence_and_a_guard_cancels_it() -> None:
    detector = default_detector()
    assert detector.scan("isä käyttää väkivaltaa").weak
    assert not detector.scan("isä käyttää väkivaltaa").strong
    assert detector.scan("olin väkivaltaisessa suhteessa kymmenen vuotta sitten").weak == ()
    assert detector.scan("isä lyö mua").strong


async def test_a_weak_match_needs_the_classifier_to_agree(interpreter: Interpreter) -> None:
    behaviour = await interpreter.parse("mun poika raivoo ja heittelee tavaroita joka ilta, en tiiä mitä tehä")
    assert behaviour.action == "answer"
    assert behaviour.topic == "families"


@pytest.mark.parametrize(
    "message",
    [
        "tää lomake tappaa mut",
        "mun kännykkä kuoli",
        "kuolen tylsyyteen tässä jonossa",
        "päiväkodissa lapsi lyö muita lapsia, mistä apua kasvatukseen",
        "perintätoimisto uhkailee ulosotolla",
        "my application went missing",
        "den här blanketten tar livet av mig",
        "ystäväni teki itsemurhan viime vuonna ja haluaisin vertaistukiryhmään",
        "osamaksut ja nettiostokset karkas käsistä",
    ],
)
def test_figurative_past_and_everyday_uses_are_not_crises(message: str) -> None:
    assert default_detector().matches(message) == (), message


def test_patterns_alone_find_almost_every_crisis_example(content: Content) -> None:
    detector = default_detector()
    examples = [e.text for intent in content.intents.values() if intent.action == "crisis" for e in intent.examples]
    caught = sum(bool(detector.matches(text)) for text in examples)
    assert caught / len(examples) >= 0.95


def test_patterns_almost_never_fire_on_other_intents_examples(content: Content) -> None:
    detector = default_detector()
    others = [e.text for intent in content.intents.values() if intent.action != "crisis" for e in intent.examples]
    alarms = [text for text in others if detector.matches(text)]
    assert len(alarms) / len(others) <= 0.005, alarms[:10]


def test_patterns_rarely_fire_on_the_contrast_messages() -> None:
    detector = default_detector()
    messages = contrast_messages()
    alarms = [m for m in messages if detector.matches(m)]
    assert len(alarms) / len(messages) <= 0.03, alarms


@pytest.mark.parametrize("case_set", CASE_SETS)
async def test_no_crisis_of_the_labelled_cases_is_missed_and_false_alarms_are_rare(
    interpreter: Interpreter, case_set: str
) -> None:
    missed, false_alarms, others = [], [], 0
    for case in labelled_cases(case_set):
        result = await interpreter.parse(case["text"])
        if case["action"] == "crisis" and result.action != "crisis":
            missed.append(case["id"])
        if case["action"] != "crisis":
            others += 1
            if result.action == "crisis":
                false_alarms.append(case["id"])
    assert missed == []
    assert len(false_alarms) / others <= 0.02, false_alarms


async def test_a_crisis_wins_over_the_service_question_it_comes_with(interpreter: Interpreter) -> None:
    for message in [
        "kela hylkäs totun enkä jaksa enää elää",
        "velat kasvaa ja mietin että tapan itteni",
        "FPA avslog mitt utkomststöd och jag vill inte leva längre",
        "my debts are out of control and i want to die",
    ]:
        result = await interpreter.parse(message)
        assert result.action == "crisis", message
        assert result.crisis_reasons, message


def matched_everywhere_and_prefiltered(detector: CrisisDetector, text: str) -> tuple[set[str], set[str]]:
    folded = f" {fold(normalize(text))} "
    every = {p.id for p in detector.patterns if p.regex.search(folded)}
    fast = {detector.patterns[i].id for i in detector._candidates(folded) if detector.patterns[i].regex.search(folded)}
    return every, fast


def test_the_prefilter_never_changes_what_matches(content: Content) -> None:
    detector = default_detector()
    texts = [e.text for intent in content.intents.values() for e in intent.examples] + contrast_messages()
    for text in texts:
        every, fast = matched_everywhere_and_prefiltered(detector, text)
        assert fast == every, text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäöå \n-'"), max_size=80))
def test_the_prefilter_agrees_with_plain_matching_on_arbitrary_text(text: str) -> None:
    every, fast = matched_everywhere_and_prefiltered(default_detector(), text)
    assert fast == every


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b(tapan|tappaa)\s+itse", {("tap", True)}),
        (r"(tapan|tappaa)\s+itse", {("itse", True)}),
        (r"\b(tapan|tappaa)\s+\w+", {("tap", True)}),
        (r"yliannos\w*", {("yliannos", False)}),
        (r"(\bvaino\w*|\bseuraa\s+mua)", {("vaino", True), ("seuraa", True)}),
        (r"(a|\w+)", None),
    ],
)
def test_required_literals_are_read_from_the_regex(pattern: str, expected: set[tuple[str, bool]] | None) -> None:
    assert required_literals(pattern) == (frozenset(expected) if expected is not None else None)


def test_a_broken_pattern_file_is_a_clear_error(tmp_path: Path) -> None:
    from nlu.errors import ContentError

    path = tmp_path / "patterns.yml"
    path.write_text("patterns:\n- id: x\n  regex: '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ContentError, match="bad crisis pattern"):
        CrisisDetector.from_file(path)
    path.write_text("patterns:\n- id: x\n  strength: medium\n  regex: 'a'\n", encoding="utf-8")
    with pytest.raises(ContentError, match="strength"):
        CrisisDetector.from_file(path)
