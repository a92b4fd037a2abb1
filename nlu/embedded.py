"""The default intent engine: a linear classifier over sparse features, trained in seconds, offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

from .content import Content
from .contract import IntentScore, Language
from .features import FeatureOptions, Featurizer, Prepared
from .language import LanguageIdentifier

#: L2 regularisation of the linear SVM; chosen by cross-validation on the content (docs/nlu.md).
DEFAULT_ALPHA: Final = 1e-4
#: Passes over the training data; more gives no better held-out accuracy.
DEFAULT_EPOCHS: Final = 15
#: Softmax temperature used when there are too few examples to fit one.
DEFAULT_TEMPERATURE: Final = 0.3
#: Share of the examples held out to fit the temperature.
CALIBRATION_SHARE: Final = 0.2
#: Intents less likely than this are left out of a ranking.
NEGLIGIBLE: Final = 1e-4
MIN_RANKING: Final = 5


@dataclass
class TrainingSet:
    """Training messages prepared once for both fitting and cross-validation."""

    prepared: list[Prepared]
    labels: np.ndarray
    intents: list[str]


def make_classifier(*, alpha: float = DEFAULT_ALPHA, epochs: int = DEFAULT_EPOCHS, seed: int = 0) -> SGDClassifier:
    """A linear SVM (hinge loss) fitted by averaged stochastic gradient descent.

    On this content it is as accurate as liblinear's LinearSVC and several times
    faster to train, which keeps ``neuvo train`` within seconds; the one-vs-rest
    problems run on two threads (the solver releases the GIL). Classes are not
    re-weighted: the crisis intent's many examples should keep their pull.
    """
    return SGDClassifier(
        loss="hinge",
        alpha=alpha,
        max_iter=epochs,
        tol=None,
        random_state=seed,
        n_jobs=2,
    )


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


class EmbeddedEngine:
    """Linear SVM on character n-grams, stems and concepts, with temperature-scaled confidences.

    A linear SVM separates many small classes of short texts as well as anything this
    light can; its margins become probabilities through a softmax whose temperature is
    fitted on held-out examples, so a confidence of 0.8 means right about 80% of the
    time. One message is scored by gathering only its non-zero features' rows of the
    weight matrix.
    """

    name = "embedded"

    def __init__(
        self,
        featurizer: Featurizer,
        weights: np.ndarray,
        intercept: np.ndarray,
        intents: list[str],
        temperature: float,
    ) -> None:
        self.featurizer = featurizer
        self.weights = weights  # features x intents
        self.intercept = intercept
        self.intents = intents
        self.temperature = temperature

    @staticmethod
    def prepare(content: Content, identifier: LanguageIdentifier, featurizer: Featurizer) -> TrainingSet:
        """Normalise every example with the language the detector gives it."""
        intents = sorted(content.intents)
        index = {name: i for i, name in enumerate(intents)}
        prepared: list[Prepared] = []
        labels: list[int] = []
        for text, intent in content.examples():
            language = identifier.detect(text).language
            prepared.append(featurizer.prepare(text, language))
            labels.append(index[intent.name])
        return TrainingSet(prepared, np.asarray(labels), intents)

    @staticmethod
    def fit(
        content: Content,
        data: TrainingSet,
        indices: np.ndarray,
        *,
        options: FeatureOptions | None = None,
        alpha: float = DEFAULT_ALPHA,
        epochs: int = DEFAULT_EPOCHS,
    ) -> tuple[Featurizer, SGDClassifier]:
        """Fit a fresh featurizer and classifier on the chosen training examples."""
        featurizer = Featurizer(content.lookups.values(), options)
        matrix = featurizer.fit_transform([data.prepared[i] for i in indices])
        classifier = make_classifier(alpha=alpha, epochs=epochs)
        classifier.fit(matrix, data.labels[indices])
        return featurizer, classifier

    @classmethod
    def train(
        cls,
        content: Content,
        identifier: LanguageIdentifier,
        *,
        options: FeatureOptions | None = None,
        alpha: float = DEFAULT_ALPHA,
        epochs: int = DEFAULT_EPOCHS,
        calibrate: bool = True,
        seed: int = 0,
    ) -> EmbeddedEngine:
        """Fit the classifier on all examples, and its temperature on a held-out share."""
        data = cls.prepare(content, identifier, Featurizer(content.lookups.values(), options))
        temperature = DEFAULT_TEMPERATURE
        if calibrate:
            temperature = cls._fit_temperature(content, data, options=options, alpha=alpha, epochs=epochs, seed=seed)
        featurizer, classifier = cls.fit(
            content, data, np.arange(len(data.labels)), options=options, alpha=alpha, epochs=epochs
        )
        weights = np.ascontiguousarray(classifier.coef_.T, dtype=np.float32)
        return cls(featurizer, weights, classifier.intercept_.astype(np.float32), data.intents, temperature)

    @classmethod
    def _fit_temperature(
        cls,
        content: Content,
        data: TrainingSet,
        *,
        options: FeatureOptions | None,
        alpha: float,
        epochs: int,
        seed: int,
    ) -> float:
        if np.bincount(data.labels).min() < 2:
            return DEFAULT_TEMPERATURE
        train_index, test_index = train_test_split(
            np.arange(len(data.labels)),
            test_size=CALIBRATION_SHARE,
            stratify=data.labels,
            random_state=seed,
        )
        featurizer, classifier = cls.fit(content, data, train_index, options=options, alpha=alpha, epochs=epochs)
        scores = classifier.decision_function(featurizer.transform([data.prepared[i] for i in test_index]))
        labels = data.labels[test_index]

        def negative_log_likelihood(temperature: float) -> float:
            probabilities = _softmax(scores, temperature)
            return float(-np.log(probabilities[np.arange(len(labels)), labels] + 1e-12).mean())

        result = minimize_scalar(negative_log_likelihood, bounds=(0.02, 5.0), method="bounded")
        return float(result.x)

    def probabilities(self, text: str, language: str, *, normalized: str | None = None) -> np.ndarray:
        """Calibrated probabilities of every intent (ordered as ``self.intents``) for one message."""
        indices, values = self.featurizer.vectorize(self.featurizer.prepare(text, language, normalized=normalized))
        scores = values @ self.weights[indices] + self.intercept if len(indices) else self.intercept.copy()
        return _softmax(scores.astype(np.float64), self.temperature)

    def batch_probabilities(self, texts: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """Probabilities for many messages at once (rows), through the batch vectorizers."""
        prepared = [self.featurizer.prepare(t, lang) for t, lang in zip(texts, languages, strict=True)]
        matrix = self.featurizer.transform(prepared)
        return _softmax(np.asarray(matrix @ self.weights) + self.intercept, self.temperature)

    def rank_sync(self, text: str, language: Language, *, normalized: str | None = None) -> list[IntentScore]:
        """The ranking of one message, without the event loop (for batch tools and benchmarks).

        Intents below ``NEGLIGIBLE`` are left out (at least five are always given): together they
        weigh less than one percent, and building them costs more than the classification.
        """
        row = self.probabilities(text, language, normalized=normalized)
        order = np.argsort(-row)
        keep = max(int(np.count_nonzero(row >= NEGLIGIBLE)), MIN_RANKING)
        return [IntentScore(self.intents[i], float(row[i])) for i in order[:keep].tolist()]

    async def rank(self, text: str, language: Language, *, normalized: str | None = None) -> list[IntentScore]:
        """The intents that matter, most likely first."""
        return self.rank_sync(text, language, normalized=normalized)

    async def close(self) -> None:
        """Nothing to release: the model lives in memory."""
