"""The bot's own phrases (``data/messages.yml``), loaded once and checked for all three languages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from nlu.contract import LANGUAGES
from nlu.errors import ContentError


class Messages:
    """Phrases by key and language."""

    def __init__(self, phrases: Mapping[str, Mapping[str, str]]) -> None:
        self.phrases = phrases

    @classmethod
    def load(cls, path: Path) -> Messages:
        """Read the phrases file.

        Raises:
            ContentError: when the file is broken or a phrase lacks a language.

        """
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ContentError(f"cannot read the bot's phrases: {exc}", path=str(path)) from exc
        if not isinstance(data, dict):
            raise ContentError("expected a mapping of phrase keys", path=str(path))
        problems = [
            f"{key!r}: a phrase key must be text (quote it; YAML reads yes/no/on/off as true/false)"
            for key in data
            if not isinstance(key, str)
        ]
        problems += [
            f"{key}: needs text in {', '.join(LANGUAGES)}"
            for key, value in data.items()
            if (isinstance(key, str) and not isinstance(value, dict))
            or any(not isinstance(value.get(lang), str) for lang in LANGUAGES)
        ]
        if problems:
            raise ContentError("; ".join(problems), path=str(path))
        return cls(data)

    def get(self, key: str, language: str) -> str:
        """The phrase in a language (Finnish when the language is unknown)."""
        texts = self.phrases[key]
        return texts.get(language) or texts["fi"]
