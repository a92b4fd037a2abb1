"""The root of Neuvo's exceptions; it lives in `nlu` because every other package builds on it."""

from __future__ import annotations


class NeuvoError(Exception):
    """Root of every error Neuvo raises on purpose; callers can catch this one type."""


class ContentError(NeuvoError, ValueError):
    """Content in ``data/intents`` cannot be used; carries where the problem is."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if path and line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")


class ModelError(NeuvoError, RuntimeError):
    """A trained model is missing, unreadable or does not match the running code."""


class EngineError(NeuvoError, RuntimeError):
    """An NLU engine failed to answer (for example a Rasa server that is down)."""
