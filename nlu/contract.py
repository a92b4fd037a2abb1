"""The fixed NLU interface of ``shared/spec/nlu-contract.md``: topic and action ids and the parse result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

TOPICS: Final = (
    "income_support",
    "families",
    "early_education",
    "elderly",
    "disability",
    "working_age",
    "health_social_work",
    "child_maintenance",
    "debt_advice",
    "ombudsman",
    "service_info",
    "none",
)
SERVICE_TOPICS: Final = TOPICS[:-1]
Language = Literal["fi", "sv", "en"]
Action = Literal["answer", "handoff", "crisis", "fallback"]

ACTIONS: Final[tuple[Action, ...]] = ("answer", "handoff", "crisis", "fallback")
LANGUAGES: Final[tuple[Language, ...]] = ("fi", "sv", "en")

#: Intent name reported when a message was not understood well enough (Rasa's name for it).
FALLBACK_INTENT: Final = "nlu_fallback"


@dataclass(frozen=True, slots=True)
class IntentScore:
    """One intent and the engine's confidence in it."""

    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What the bot understood of one message; the shape every engine must produce."""

    text: str
    language: Language
    intent: str
    confidence: float
    topic: str
    action: Action
    ranking: tuple[IntentScore, ...] = ()
    crisis_reasons: tuple[str, ...] = field(default=())
    #: What decided the language: the text itself, the caller's hint, or the default.
    language_source: str = "text"

    def contract_dict(self, message_id: Any = None) -> dict[str, Any]:
        """The JSON object of the contract's ``neuvo parse`` output line, keys in contract order."""
        return {
            "id": message_id,
            "text": self.text,
            "language": self.language,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "topic": self.topic,
            "action": self.action,
        }

    def full_dict(self, message_id: Any = None) -> dict[str, Any]:
        """The contract object plus the ranking and why a crisis was recognised."""
        data = self.contract_dict(message_id)
        data["ranking"] = [{"intent": score.name, "confidence": round(score.confidence, 4)} for score in self.ranking]
        data["crisis_reasons"] = list(self.crisis_reasons)
        return data
