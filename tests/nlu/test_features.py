"""Features: the fast one-message path computes exactly what the batch vectorizers compute."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.content import Lookup
from nlu.features import ConceptMatcher, Featurizer, word_char_ngrams
from nlu.model import NluModel


def lookup(name: str, *entries: str) -> Lookup:
    return Lookup(name, entries, "test.yml", 1)


@pytest.mark.parametrize("word", ["a", "ab", "moi", "päiväkoti", "varhaiskasvatuspaikka"])
def test_char_ngrams_are_scikit_learns_char_wb(word: str) -> None:
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()
    assert list(word_char_ngrams(word)) == reference(word)


def test_the_one_message_vector_equals_the_batch_vector(model: NluModel) -> None:
    featurizer = model.engine.featurizer
    for text in ["mist saa toimeentulotukee", "hur ansöker jag om färdtjänst", "xyz", "😀", "a a a a a"]:
        prepared = featurizer.prepare(text, "fi")
        dense = featurizer.transform([prepared]).toarray()[0]
        indices, values = featurizer.vectorize(prepared)
        fast = np.zeros_like(dense)
        np.add.at(fast, indices, values)
        np.testing.assert_allclose(fast, dense, rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvyäö ", max_size=60))
def test_the_vectors_agree_on_arbitrary_text(model: NluModel, text: str) -> None:
    featurizer = model.engine.featurizer
    prepared = featurizer.prepare(text, "fi")
    dense = featurizer.transform([prepared]).toarray()[0]
    indices, values = featurizer.vectorize(prepared)
    fast = np.zeros_like(dense)
    np.add.at(fast, indices, values)
    np.testing.assert_allclose(fast, dense, rtol=1e-5, atol=1e-6)


def test_concept_entries_match_by_the_documented_rules() -> None:
    matcher = ConceptMatcher(
        [
            lookup("daycare", "päiväko", "dagis"),
            lookup("education", "kasvatus"),
            lookup("kela", "kela"),
            lookup("short", "te"),
            lookup("phrase", "velka neuvo"),
        ]
    )

    def concepts(text: str) -> set[str]:
        return matcher.concepts(text.split())

    assert concepts("paivakodissa") == {"daycare"}  # an entry matches word starts, folded
    assert concepts("varhaiskasvatuspaikka") == {"education"}  # six letters or more: inside compounds too
    assert concepts("kelasta") == {"kela"}  # four letters: word starts only
    assert concepts("takela") == set()
    assert concepts("te toimisto") == {"short"}  # up to three letters: whole words only
    assert concepts("teidan") == set()
    assert concepts("velka neuvontaa") == {"phrase"}  # several words: in a row
    assert concepts("neuvontaa velka") == set()


def test_feature_options_switch_families_off() -> None:
    from nlu.features import FeatureOptions

    featurizer = Featurizer([lookup("daycare", "päiväko")], FeatureOptions(concepts=False, pairs=False))
    tokens = featurizer.prepare("mä haluun päiväkotiin", "fi").tokens
    assert not any(token.startswith("§") for token in tokens)
    assert not any("_" in token for token in tokens)
    assert "halua" in tokens  # the standard form of "haluun" is still there
