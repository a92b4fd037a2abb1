"""Building a ready :class:`~nlu.interpreter.Interpreter` from settings, training when needed."""

from __future__ import annotations

from collections.abc import Callable

from .content import load_content
from .crisis import default_detector
from .engine import IntentEngine
from .interpreter import Interpreter
from .language import LanguageIdentifier
from .model import IntentInfo
from .rasa_engine import RasaHttpEngine
from .settings import NluSettings
from .training import load_or_train


def open_interpreter(settings: NluSettings, *, announce: Callable[[str], None] | None = None) -> Interpreter:
    """The interpreter for the configured engine.

    The embedded engine loads the saved model, training it first when it is missing or
    stale. The Rasa engine only needs the content's metadata and a language detector,
    both built from ``data/intents`` in well under a second.
    """
    engine: IntentEngine
    if settings.engine == "rasa":
        content = load_content(settings.content_dir)
        identifier = LanguageIdentifier.train(text for text, _ in content.examples())
        intents = {n: IntentInfo(n, s.topic, s.action) for n, s in content.intents.items()}
        engine = RasaHttpEngine(settings.rasa_url, settings.rasa_timeout_seconds)
        return Interpreter(engine, intents, identifier, default_detector(), settings)
    model = load_or_train(settings.content_dir, settings.model_dir, announce=announce)
    return Interpreter(model.engine, model.intents, model.identifier, default_detector(), settings)
