"""Answer texts with the county's facts filled in, in the citizen's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from nlu.content import PLACEHOLDER


class Facts(Protocol):
    """Where placeholder values come from (the validated ``county:`` section of the config)."""

    def fact(self, key: str, language: str) -> str:
        """The fact's text in a language; raises KeyError when it is not configured."""
        ...


def render(template: str, facts: Facts, language: str) -> str:
    """Fill ``{phone.income_support}``-style placeholders.

    An unknown placeholder is left as written rather than failing a citizen's answer;
    ``neuvo validate`` reports it to the editor before it can go live.
    """

    def replace(match: object) -> str:
        key = match.group(1)  # type: ignore[attr-defined]
        try:
            return facts.fact(key, language)
        except KeyError:
            return match.group(0)  # type: ignore[attr-defined]

    return PLACEHOLDER.sub(replace, template)


def pick(texts: Mapping[str, str], language: str, fallback: str = "fi") -> str:
    """The text in a language, else in the fallback language, else any."""
    if language in texts:
        return texts[language]
    if fallback in texts:
        return texts[fallback]
    return next(iter(texts.values()), "")
