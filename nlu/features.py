"""Turning a message into sparse features that survive Finnish inflection, spoken forms and typos.

Training goes through scikit-learn's vectorizers; parsing one message uses
:meth:`Featurizer.vectorize`, which computes the same TF-IDF vector by hand from
per-word caches, because the vectorizers' per-call overhead is a millisecond.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .content import Lookup
from .memo import remember
from .text import MAX_CLASSIFIED_CHARS, fold, normalize, standard_finnish, stem, words

#: Prefix of a concept feature, chosen so it cannot collide with a word stem.
CONCEPT_PREFIX: Final = "§"
CHAR_NGRAMS: Final = (2, 5)
#: The cache entry of a word that matches no lookup entry (most words): shared, not one per word.
_NOTHING: Final[tuple[frozenset[str], frozenset[str]]] = (frozenset(), frozenset())
#: A word's folded form, stem, and standard-Finnish stem (when it adds one).
_WordTokens = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """Which feature families are on; the evaluation switches them off one by one to show their worth."""

    chars: bool = True
    stems: bool = True
    standard_forms: bool = True
    concepts: bool = True
    pairs: bool = True


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message normalised once: its folded words and its word-level tokens."""

    folded_words: tuple[str, ...]
    tokens: tuple[str, ...]


@lru_cache(maxsize=1024)  # helps training on frequent words; parsing caches the feature indices instead
def word_char_ngrams(word: str) -> tuple[str, ...]:
    """Character n-grams of one word padded with spaces, exactly as scikit-learn's ``char_wb``."""
    padded = f" {word} "
    length = len(padded)
    grams: list[str] = []
    low, high = CHAR_NGRAMS
    for size in range(low, high + 1):
        offset = 0
        grams.append(padded[offset : offset + size])
        while offset + size < length:
            offset += 1
            grams.append(padded[offset : offset + size])
        if offset == 0:  # a word shorter than the n-gram is counted once
            break
    return tuple(grams)


def char_analyzer(folded_words: Sequence[str]) -> list[str]:
    """All character n-grams of a message's folded words (the vectorizer's analyzer)."""
    grams: list[str] = []
    for word in folded_words:
        grams.extend(word_char_ngrams(word))
    return grams


def token_analyzer(tokens: Sequence[str]) -> Sequence[str]:
    """Word-level tokens are computed by :meth:`Featurizer.prepare`; the analyzer passes them on."""
    return tokens


class ConceptMatcher:
    """Finds the lookup-table concepts in a message's folded words.

    Entries of up to three letters match whole words, longer entries match word starts,
    and entries of six letters or more also match inside compounds; the rules are
    documented for editors in ``docs/content-guide.md``. What a word matches is
    computed once per distinct word and cached; a phrase is checked only where its
    first word matched.
    """

    def __init__(self, lookups: Iterable[Lookup]) -> None:
        names: dict[str, set[str]] = {}
        phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        inner: dict[str, set[str]] = {}
        for lookup in lookups:
            for entry in lookup.entries:
                parts = tuple(fold(normalize(entry)).split())
                if not parts:
                    continue
                for part in parts:
                    names.setdefault(part, set())
                if len(parts) > 1:
                    phrases.setdefault(parts[0], []).append((parts, lookup.name))
                    continue
                (word,) = parts
                names[word].add(lookup.name)
                if len(word) >= 6:
                    inner.setdefault(word, set()).add(lookup.name)
        self.names = {key: frozenset(value) for key, value in names.items()}
        self.phrases = phrases
        self.inner = {key: frozenset(value) for key, value in inner.items()}
        self._prefix_lengths = sorted({len(key) for key in names if len(key) > 3})
        self._inner_lengths = sorted({len(key) for key in inner})
        self._cache: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        return state

    def _word(self, word: str) -> tuple[frozenset[str], frozenset[str]]:
        """The entries this word matches (itself if short, else its prefixes), and its concepts."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        names = self.names
        keys = {word} if len(word) <= 3 and word in names else set()
        for length in self._prefix_lengths:
            if length > len(word):
                break
            prefix = word[:length]
            if prefix in names:
                keys.add(prefix)
        concepts: set[str] = set()
        for key in keys:
            concepts |= names[key]
        inner = self.inner
        for length in self._inner_lengths:
            if length >= len(word):
                break
            for start in range(1, len(word) - length + 1):
                entry_names = inner.get(word[start : start + length])
                if entry_names:
                    concepts |= entry_names
        return remember(self._cache, word, (frozenset(keys), frozenset(concepts)) if keys or concepts else _NOTHING)

    def concepts(self, folded_words: Sequence[str]) -> set[str]:
        """The names of every concept found in a sequence of folded words."""
        found: set[str] = set()
        per_word = [self._word(word) for word in folded_words]
        count = len(per_word)
        for position, (keys, concepts) in enumerate(per_word):
            found |= concepts
            for key in keys:
                for parts, name in self.phrases.get(key, ()):
                    if position + len(parts) <= count and all(
                        part in per_word[position + offset][0] for offset, part in enumerate(parts[1:], start=1)
                    ):
                        found.add(name)
        return found


class Featurizer:
    """Builds the feature vector: character n-grams, stems and their pairs, and concepts.

    Character n-grams (2-5, inside word boundaries, on text with ä/ö folded) carry
    compounds, inflections and typos; stems of words and of their standard forms carry
    meaning across spoken and written Finnish; concepts carry synonyms the examples
    never used. The two blocks are TF-IDF weighted and normalised separately.
    """

    def __init__(self, lookups: Iterable[Lookup], options: FeatureOptions | None = None) -> None:
        self.matcher = ConceptMatcher(lookups)
        self.options = options or FeatureOptions()
        self.chars = TfidfVectorizer(analyzer=char_analyzer, sublinear_tf=True, dtype=np.float32)
        self.stems = TfidfVectorizer(analyzer=token_analyzer, sublinear_tf=True, dtype=np.float32)
        self._char_ids: dict[str, np.ndarray] = {}
        self._stems_offset = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_char_ids"] = {}
        state.pop("_stem_idf_list", None)
        state.pop("_word_tokens", None)
        return state

    def prepare(self, text: str, language: str, *, normalized: str | None = None) -> Prepared:
        """Normalise a message (unless given ``normalized``) and derive its word-level tokens."""
        typed = words(normalized if normalized is not None else normalize(text[:MAX_CLASSIFIED_CHARS]))
        cache: dict[tuple[str, str], _WordTokens] = self.__dict__.setdefault("_word_tokens", {})
        folded_words: list[str] = []
        tokens: list[str] = []
        stems: list[str] = []
        for word in typed:
            entry = cache.get((word, language))
            if entry is None:
                entry = remember(cache, (word, language), self._word_tokens_of(word, language))
            folded_word, word_stem, standard_stem = entry
            folded_words.append(folded_word)
            stems.append(word_stem)
            tokens.append(word_stem)
            if standard_stem is not None:
                tokens.append(standard_stem)
        options = self.options
        if options.pairs:
            tokens.extend(f"{a}_{b}" for a, b in pairwise(stems))
        if options.concepts:
            tokens.extend(CONCEPT_PREFIX + name for name in sorted(self.matcher.concepts(folded_words)))
        return Prepared(tuple(folded_words), tuple(tokens))

    def _word_tokens_of(self, word: str, language: str) -> _WordTokens:
        """One word's folded form, its stem, and the stem of its standard Finnish form when that differs."""
        options = self.options
        folded_word = fold(word)
        word_stem = stem(word, language) if options.stems else folded_word
        if options.standard_forms and language == "fi":
            standard = standard_finnish(word)
            if standard and standard != word:
                standard_stem = stem(standard, "fi") if options.stems else fold(standard)
                if standard_stem != word_stem:
                    return folded_word, word_stem, standard_stem
        return folded_word, word_stem, None

    @property
    def size(self) -> int:
        """Number of features, once fitted."""
        chars = len(self.chars.vocabulary_) if self.options.chars else 0
        return len(self.stems.vocabulary_) + chars

    def fit_transform(self, prepared: Sequence[Prepared]) -> sp.csr_matrix:
        """Learn the vocabularies and weights from training messages and return their features."""
        parts = [self.stems.fit_transform([p.tokens for p in prepared])]
        if self.options.chars:
            parts.append(self.chars.fit_transform([p.folded_words for p in prepared]))
        self._stems_offset = 0
        self._char_ids = {}
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def transform(self, prepared: Sequence[Prepared]) -> sp.csr_matrix:
        """Features of a batch of messages for an already fitted featurizer."""
        parts = [self.stems.transform([p.tokens for p in prepared])]
        if self.options.chars:
            parts.append(self.chars.transform([p.folded_words for p in prepared]))
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def vectorize(self, prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
        """One message's non-zero features as (indices, values): the same vector as :meth:`transform`.

        The few dozen word-level features are weighed in plain Python (numpy's per-call
        overhead would cost more); the hundreds of character n-grams in numpy, from
        per-word arrays of their vocabulary indices.
        """
        stem_vocabulary = self.stems.vocabulary_
        stem_counts = Counter(i for i in (stem_vocabulary.get(t) for t in prepared.tokens) if i is not None)
        indices: list[int] = []
        values: list[float] = []
        _weigh(stem_counts, self._stem_idf(), 0, indices, values)
        stem_indices = np.array(indices, dtype=np.int64)
        stem_values = np.array(values, dtype=np.float32)
        if not self.options.chars:
            return stem_indices, stem_values
        per_word = [self._word_char_ids(word) for word in prepared.folded_words]
        per_word = [ids for ids in per_word if len(ids)]
        if not per_word:
            return stem_indices, stem_values
        char_ids, counts = np.unique(np.concatenate(per_word).astype(np.int64), return_counts=True)
        weights = (1.0 + np.log(counts)) * self.chars.idf_[char_ids]
        weights /= np.sqrt(np.dot(weights, weights))
        return (
            np.concatenate([stem_indices, char_ids + len(stem_vocabulary)]),
            np.concatenate([stem_values, weights.astype(np.float32)]),
        )

    def _stem_idf(self) -> list[float]:
        cached = self.__dict__.get("_stem_idf_list")
        if cached is None:
            cached = self.__dict__["_stem_idf_list"] = self.stems.idf_.tolist()
        return cached

    def _word_char_ids(self, word: str) -> np.ndarray:
        ids = self._char_ids.get(word)
        if ids is None:
            vocabulary = self.chars.vocabulary_
            ids = np.array(
                [i for i in (vocabulary.get(g) for g in word_char_ngrams(word)) if i is not None], dtype=np.int32
            )
            remember(self._char_ids, word, ids)
        return ids


def _weigh(counts: Counter[int], idf: list[float], offset: int, indices: list[int], values: list[float]) -> None:
    """Sublinear TF times IDF, L2-normalised (scikit-learn's TfidfVectorizer for one document), appended."""
    if not counts:
        return
    weights = [(1.0 + math.log(count)) * idf[index] for index, count in counts.items()]
    norm = math.sqrt(sum(weight * weight for weight in weights))
    indices.extend(index + offset for index in counts)
    values.extend(weight / norm for weight in weights)
