"""Normalisation: what every feature and pattern sees of a message."""

from __future__ import annotations

import pytest

from nlu.text import fold, has_letters, normalize, standard_finnish, stem


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Moiiii!!", "moii"),
        ("  Mä   HALUUN\tapua ", "mä haluun apua"),
        ("Päiväkoti, päiväkodin; PÄIVÄKODISSA", "päiväkoti päiväkodin päiväkodissa"),
        ("don't", "don t"),
        ("ﬁnnish ligature", "finnish ligature"),
        ("", ""),
    ],
)
def test_normalize_lowercases_simplifies_and_keeps_nordic_letters(typed: str, normalized: str) -> None:
    assert normalize(typed) == normalized


def test_fold_makes_spellings_with_and_without_nordic_letters_equal() -> None:
    assert fold("päiväkoti") == fold("paivakoti") == "paivakoti"
    assert fold("föräldrar på åland") == "foraldrar pa aland"


@pytest.mark.parametrize(
    ("spoken", "standard"),
    [
        ("mä", "minä"),
        ("voiks", "voiko"),
        ("onks", "onko"),
        ("pitääks", "pitääkö"),
        ("pitäis", "pitäisi"),
        ("haluun", "haluan"),
    ],
)
def test_spoken_finnish_gets_its_standard_form(spoken: str, standard: str) -> None:
    assert standard_finnish(spoken) == standard


def test_words_without_a_spoken_form_are_left_alone() -> None:
    assert standard_finnish("toimeentulotuki") is None
    assert standard_finnish("kallis") is None


def test_stemming_joins_inflected_forms() -> None:
    assert stem("toimeentulotukea", "fi") == stem("toimeentulotuki", "fi")
    assert stem("applying", "en") == stem("applied", "en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("😀😀", False), ("123 456", False), ("...", False), ("a", True), ("ä", True), ("😀 moi", True)],
)
def test_has_letters(text: str, expected: bool) -> None:
    assert has_letters(text) is expected
