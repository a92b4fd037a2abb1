"""Language: the text's own language when clear, the hint when not, the default otherwise."""

from __future__ import annotations

import pytest

from nlu.model import NluModel


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mist saa toimeentulotukee", "fi"),
        ("mun äiti ei pärjää enää kotona", "fi"),
        ("paivakotipaikka hakemus", "fi"),
        ("hur ansöker jag om utkomststöd", "sv"),
        ("min mamma klarar sig inte hemma längre", "sv"),
        ("how do I apply for income support", "en"),
        ("my mom cant cope at home anymore", "en"),
        ("how do i apply toimeentulotuki", "en"),
    ],
)
def test_clear_messages_are_recognised(model: NluModel, text: str, language: str) -> None:
    assert model.identifier.detect(text).language == language


def test_a_hint_decides_when_the_text_has_no_clue(model: NluModel) -> None:
    detection = model.identifier.detect("ok", hint="sv")
    assert (detection.language, detection.decided_by) == ("sv", "hint")


def test_the_default_decides_when_there_is_neither(model: NluModel) -> None:
    assert model.identifier.detect("😀", default="en").language == "en"


def test_a_clear_text_overrides_a_wrong_hint(model: NluModel) -> None:
    detection = model.identifier.detect("jag vill ansöka om färdtjänst för min pappa", hint="fi")
    assert detection.language == "sv"


def test_compounds_are_familiar_and_keyboard_mashing_is_not(model: NluModel) -> None:
    assert model.identifier.known_words("sopeutumisvalmennuskurssit syöpäpotilaille") > 0
    assert model.identifier.known_words("hkjhkjh xyzzy") == 0
