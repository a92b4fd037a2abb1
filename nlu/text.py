"""Text normalisation shared by training and parsing, so both see a message the same way."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Final

import snowballstemmer

_RESOURCES: Final = Path(__file__).parent / "resources"

#: Characters kept after folding: letters, digits and spaces; everything else separates words.
_NON_WORD: Final = re.compile(r"[^\w]+|_+")
_REPEATS: Final = re.compile(r"(\w)\1{2,}")
_WORD: Final = re.compile(r"[^\W\d_]+|\d+")
_LETTER: Final = re.compile(r"[^\W\d_]")
_FOLD_TABLE: Final = str.maketrans({"ä": "a", "ö": "o", "å": "a", "æ": "a", "ø": "o", "ü": "u"})

#: Longest text the classifier looks at; a longer message is a letter, and its start tells its subject.
MAX_CLASSIFIED_CHARS: Final = 2000


def normalize(text: str) -> str:
    """Lower-case, compatibility-normalise and simplify punctuation, keeping ä, ö and å.

    Repeated letters are cut to two ("moiiii" -> "moii") because Finnish double letters
    carry meaning but longer runs are only emphasis.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _NON_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1\1", text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Fold Nordic letters to plain ones, so "päiväkoti" and "paivakoti" look the same."""
    text = text.translate(_FOLD_TABLE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(normalized: str) -> list[str]:
    """The words of an already normalised text."""
    return _WORD.findall(normalized)


def has_letters(text: str) -> bool:
    """Whether the text has any letter at all (emoji, digits and punctuation do not count)."""
    return _LETTER.search(text) is not None


@lru_cache(maxsize=1)
def _colloquial_forms() -> dict[str, str]:
    mapping: dict[str, str] = {}
    path = _RESOURCES / "fi_colloquial.txt"
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spoken, _, standard = line.partition("=")
        mapping[spoken.strip()] = standard.strip()
    return mapping


def standard_finnish(word: str) -> str | None:
    """The standard form of a spoken-Finnish word ("mä" -> "minä", "voiks" -> "voiko"), if known.

    A small table covers the pronouns and verbs that carry most of the meaning; two
    suffix rules cover the spoken conditional ("pitäis") and question clitic ("onks").
    """
    table = _colloquial_forms()
    if word in table:
        return table[word]
    if len(word) > 4 and word.endswith("is") and word[-3] in "aeiouyäö":
        return word + "i"
    if len(word) > 3 and word.endswith("ks"):
        back = not any(ch in "äöy" for ch in word)
        return word[:-1] + ("o" if back else "ö")
    return None


_STEMMER_NAMES: Final = {"fi": "finnish", "sv": "swedish", "en": "english"}


@lru_cache(maxsize=4)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(_STEMMER_NAMES.get(language, "finnish"))


@lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    """The Snowball stem of one word in the given language, folded."""
    if len(word) <= 3 or word.isdigit():
        return fold(word)
    return fold(_stemmer(language).stemWord(word))
