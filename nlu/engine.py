"""The seam between Neuvo and an intent classifier: the embedded model or a Rasa server."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .contract import IntentScore, Language


@runtime_checkable
class IntentEngine(Protocol):
    """Ranks a content's intents for one message.

    Everything else (language, crisis patterns, thresholds, topics and actions) is done
    by the :class:`~nlu.interpreter.Interpreter` from the content's metadata, so two
    engines trained on the same ``data/intents`` behave the same to every caller.
    """

    #: Name used in ``config.yml`` (``nlu.engine``) and in reports.
    name: str

    async def rank(self, text: str, language: Language, *, normalized: str | None = None) -> list[IntentScore]:
        """Intents, most likely first, confidences summing to at most 1.

        ``normalized`` is the text after :func:`~nlu.text.normalize`, for engines that can reuse it.
        """
        ...

    async def close(self) -> None:
        """Release connections or other resources the engine holds."""
        ...
