"""Which of Finnish, Swedish and English a message is written in, trained from the content itself."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import numpy as np

from .contract import LANGUAGES, Language
from .memo import remember
from .text import fold, normalize, words

_RESOURCES: Final = Path(__file__).parent / "resources"
_NGRAM_SIZES: Final = (1, 2, 3, 4)
#: Below this posterior the detector admits it is unsure and a hint or default decides.
SURE: Final = 0.90
#: Share of a new word's four-letter sequences that must be known for the word to count as familiar.
FAMILIAR_SHARE: Final = 0.75


@lru_cache(maxsize=1)
def marker_words() -> dict[str, frozenset[str]]:
    """Words that belong to one language only, per language (folded and unfolded)."""
    found: dict[str, set[str]] = {language: set() for language in LANGUAGES}
    for raw in (_RESOURCES / "language_words.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        language, _, listed = line.partition(":")
        for word in listed.split():
            found[language.strip()].add(word.casefold())
    return {language: frozenset(ws) for language, ws in found.items()}


def marker_language(text: str) -> Language | None:
    """The language a text's marker words clearly point to, or None when they do not agree."""
    counts = _marker_counts(words(normalize(text)))
    best = max(LANGUAGES, key=lambda language: counts[language])
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] >= 1 and ranked[0] >= 2 * ranked[1] + 1:
        return best
    return None


def _marker_counts(tokens: Iterable[str]) -> Counter[str]:
    markers = marker_words()
    counts: Counter[str] = Counter({language: 0 for language in LANGUAGES})
    for token in tokens:
        for language in LANGUAGES:
            if token in markers[language]:
                counts[language] += 1
    return counts


def _ngrams(normalized: str) -> Iterable[str]:
    for word in normalized.split():
        padded = f" {word} "
        for size in _NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                yield padded[start : start + size]


@dataclass
class LanguageDetection:
    """The detected language, how sure the detector is, and whether a hint or default decided."""

    language: Language
    confidence: float
    decided_by: str  # "text", "hint" or "default"


class LanguageIdentifier:
    """A character n-gram naive Bayes model over fi/sv/en, with marker words as extra evidence.

    Trained on the content's own examples, labelled by their marker words, so adding
    content also teaches the detector; no external model is downloaded. The n-gram
    log-likelihoods sit in one matrix (n-gram x language) so a message is scored with
    one lookup per n-gram.
    """

    def __init__(
        self,
        index: dict[str, int],
        log_likelihoods: np.ndarray,
        log_priors: np.ndarray,
        distinctive: dict[str, frozenset[str]],
        seen: frozenset[str],
    ) -> None:
        self.index = index
        self.log_likelihoods = log_likelihoods  # last row: an unseen n-gram
        self.log_priors = log_priors
        self.distinctive = distinctive
        self.seen = seen

    @classmethod
    def train(cls, texts: Iterable[str], alpha: float = 0.5) -> LanguageIdentifier:
        """Learn n-gram frequencies from texts whose marker words name their language."""
        counts: dict[str, Counter[str]] = {language: Counter() for language in LANGUAGES}
        documents: Counter[str] = Counter()
        vocab: dict[str, set[str]] = {language: set() for language in LANGUAGES}
        seen: set[str] = set()
        for text in texts:
            normalized = normalize(text)
            tokens = [fold(token) for token in words(normalized)]
            seen.update(tokens)
            label = marker_language(text)
            if label is None:
                continue
            documents[label] += 1
            counts[label].update(_ngrams(normalized))
            vocab[label].update(tokens)
        for language in LANGUAGES:  # the marker words themselves are training text too
            for word in marker_words()[language]:
                counts[language].update(_ngrams(word))
                vocab[language].add(fold(word))
                documents[language] += 1
        grams = sorted(set().union(*counts.values()))
        index = {gram: i for i, gram in enumerate(grams)}
        matrix = np.zeros((len(grams) + 1, len(LANGUAGES)), dtype=np.float64)
        total_documents = sum(documents.values())
        priors = np.zeros(len(LANGUAGES))
        for column, language in enumerate(LANGUAGES):
            total = sum(counts[language].values(), 0) + alpha * (len(grams) + 1)
            matrix[:, column] = np.log(alpha / total)
            for gram, count in counts[language].items():
                matrix[index[gram], column] = np.log((count + alpha) / total)
            priors[column] = np.log(documents[language] / total_documents)
        # A word seen in only one language is evidence for it; shared words are not.
        distinctive: dict[str, frozenset[str]] = {
            language: frozenset(vocab[language] - set().union(*(vocab[o] for o in LANGUAGES if o != language)))
            for language in LANGUAGES
        }
        return cls(index, matrix, priors, distinctive, frozenset(seen))

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state.pop("_words", None)
        return state

    def _word(self, word: str) -> tuple[tuple[float, ...], int, int, bool]:
        """Per distinct word: summed n-gram log-likelihoods, n-gram count, distinctive language, familiar.

        A word is familiar when the content uses it, or when most of its four-letter
        sequences occur in the content: Finnish compounds and inflections are new
        words made of familiar parts, keyboard mashing is not.
        """
        cache: dict[str, tuple[tuple[float, ...], int, int, bool]] = self.__dict__.setdefault("_words", {})
        cached = cache.get(word)
        if cached is not None:
            return cached
        unseen = len(self.index)
        rows = [self.index.get(gram, unseen) for gram in _ngrams(word)]
        folded = fold(word)
        distinctive = next(
            (column for column, language in enumerate(LANGUAGES) if folded in self.distinctive[language]), -1
        )
        familiar = folded in self.seen
        if not familiar and len(word) >= 4:
            padded = f" {word} "
            quads = [padded[i : i + 4] for i in range(len(padded) - 3)]
            familiar = sum(quad in self.index for quad in quads) >= FAMILIAR_SHARE * len(quads)
        sums = tuple(float(value) for value in self.log_likelihoods[rows].sum(axis=0))
        return remember(cache, word, (sums, len(rows), distinctive, familiar))

    def scores(self, text: str, *, normalized: str | None = None) -> dict[str, float]:
        """Posterior probability of each language for a text (give ``normalized`` if you have it)."""
        per_word = [self._word(word) for word in (normalized if normalized is not None else normalize(text)).split()]
        grams = sum(count for _, count, _, _ in per_word)
        if not grams:
            return {language: 1 / len(LANGUAGES) for language in LANGUAGES}
        # Average per n-gram, then sharpen by a gentle function of length, so long
        # texts are surer than short ones without the posterior saturating at once.
        # Three numbers per message: plain floats are faster than numpy here.
        sharpen = min(grams, 60) * 0.35 / grams
        log_scores = [sum(sums[column] for sums, _, _, _ in per_word) * sharpen for column in range(len(LANGUAGES))]
        for _, _, distinctive, _ in per_word:
            if distinctive >= 0:
                log_scores[distinctive] += 1.5
        top = max(log_scores)
        exp = [math.exp(score - top) for score in log_scores]
        total = sum(exp)
        return {language: exp[column] / total for column, language in enumerate(LANGUAGES)}

    def known_words(self, text: str, *, normalized: str | None = None) -> int:
        """How many words of the text are familiar from the content, in any language."""
        words = (normalized if normalized is not None else normalize(text)).split()
        return sum(1 for word in words if self._word(word)[3])

    def detect(
        self, text: str, hint: Language | None = None, default: Language = "fi", *, normalized: str | None = None
    ) -> LanguageDetection:
        """The language to answer in: the text's own when clear, else the hint, else the default."""
        normalized = normalized if normalized is not None else normalize(text)
        scores = self.scores(text, normalized=normalized)
        best: Language = max(LANGUAGES, key=lambda language: scores[language])
        confidence = scores[best]
        clue = self.known_words(text, normalized=normalized) > 0
        if clue and confidence >= SURE:
            return LanguageDetection(best, confidence, "text")
        if hint is not None and hint in LANGUAGES:
            return LanguageDetection(hint, confidence, "hint")
        if clue and confidence >= 0.6:
            return LanguageDetection(best, confidence, "text")
        return LanguageDetection(default, confidence, "default")
