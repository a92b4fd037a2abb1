"""The NLU's own settings, filled from ``config.yml`` by the bot and given plain defaults here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .contract import Language


@dataclass(frozen=True, slots=True)
class NluSettings:
    """Everything the understanding layer needs to know, validated by the configuration loader."""

    content_dir: Path = Path("data/intents")
    model_dir: Path = Path(".neuvo/model")
    engine: str = "embedded"
    fallback_threshold: float = 0.35
    crisis_threshold: float = 0.40
    weak_crisis_threshold: float = 0.10
    handoff_threshold: float = 0.40
    default_language: Language = "fi"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 3.0
