"""Training the embedded model, and loading it only when it still matches the content."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from .content import Content, load_content
from .embedded import EmbeddedEngine
from .errors import ModelError
from .language import LanguageIdentifier
from .model import IntentInfo, NluModel

logger = logging.getLogger(__name__)


def train_model(content: Content) -> NluModel:
    """Train the language detector and the intent classifier on a content."""
    started = time.perf_counter()
    identifier = LanguageIdentifier.train(text for text, _ in content.examples())
    with warnings.catch_warnings():
        # liblinear may stop at its iteration limit on a few folds; the result is still usable.
        warnings.filterwarnings("ignore", message=".*converge.*")
        engine = EmbeddedEngine.train(content, identifier)
    intents = {name: IntentInfo(name, spec.topic, spec.action) for name, spec in content.intents.items()}
    seconds = time.perf_counter() - started
    examples = sum(len(spec.examples) for spec in content.intents.values())
    logger.info("trained nlu model intents=%d examples=%d seconds=%.2f", len(intents), examples, seconds)
    return NluModel(content.fingerprint(), identifier, engine, intents, seconds, examples)


def load_or_train(
    content_dir: Path,
    model_dir: Path,
    *,
    announce: Callable[[str], None] | None = None,
) -> NluModel:
    """The saved model if it was trained on today's content, else a freshly trained and saved one.

    ``announce`` is told, in one sentence, when and why training happens (the CLI
    prints it on standard error, never on standard output).
    """
    content = load_content(content_dir)
    fingerprint = content.fingerprint()
    try:
        model = NluModel.load(model_dir)
    except ModelError as exc:
        reason = str(exc)
    else:
        if model.fingerprint == fingerprint:
            return model
        reason = "the content has changed since the model was trained"
    if announce:
        announce(f"Training the NLU model first ({reason}).")
    model = train_model(content)
    model.save(model_dir)
    return model
