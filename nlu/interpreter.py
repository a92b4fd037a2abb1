"""From a message to the contract's reading of it: language, intent, confidence, topic, action."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from .contract import (
    FALLBACK_INTENT,
    SERVICE_TOPICS,
    Action,
    IntentScore,
    Language,
    ParseResult,
)
from .crisis import MAX_SCANNED_CHARS, CrisisDetector, CrisisSignal
from .engine import IntentEngine
from .language import LanguageIdentifier
from .model import IntentInfo
from .settings import NluSettings
from .text import MAX_CLASSIFIED_CHARS, has_letters, normalize

#: How many intents a result carries in its ranking.
RANKING_SIZE: Final = 5
#: Share of the service intents' probability one topic needs before a handoff or crisis names it.
TOPIC_SHARE: Final = 0.5
#: Probability mass the service intents need at all before a handoff or crisis gets a topic.
TOPIC_MASS: Final = 0.15


class Interpreter:
    """Combines the language detector, the crisis patterns and an intent engine.

    The order of decisions is the contract's: a crisis wins over everything, then an
    explicit request for a human, then out-of-scope and low confidence, then answers.
    """

    def __init__(
        self,
        engine: IntentEngine,
        intents: Mapping[str, IntentInfo],
        identifier: LanguageIdentifier,
        crisis: CrisisDetector,
        settings: NluSettings,
    ) -> None:
        self.engine = engine
        self.intents = dict(intents)
        self.identifier = identifier
        self.crisis = crisis
        self.settings = settings
        self._crisis_intent = self._first_with_action("crisis", "crisis")
        self._handoff_intent = self._first_with_action("handoff", "human_request")

    def _first_with_action(self, action: Action, default: str) -> str:
        names = sorted(name for name, info in self.intents.items() if info.action == action)
        return names[0] if names else default

    async def parse(self, text: str, hint: str | None = None) -> ParseResult:
        """Read one message; never raises on odd text (empty, emoji, huge, control characters)."""
        language_hint: Language | None = hint if hint in ("fi", "sv", "en") else None  # type: ignore[assignment]
        # Normalise once; every detector reads the same normalised text.
        scanned = normalize(text[:MAX_SCANNED_CHARS])
        classified = scanned if len(text) <= MAX_CLASSIFIED_CHARS else normalize(text[:MAX_CLASSIFIED_CHARS])
        detection = self.identifier.detect(text, language_hint, self.settings.default_language, normalized=classified)
        language = detection.language
        signal = self.crisis.scan(text, normalized=scanned)
        if not has_letters(text):
            result = ParseResult(text, language, FALLBACK_INTENT, 0.0, "none", "fallback")
        else:
            ranking = await self.engine.rank(text[:MAX_CLASSIFIED_CHARS], language, normalized=classified)
            familiar = self.identifier.known_words(text, normalized=classified) > 0
            result = self.decide(text, language, ranking, signal, familiar=familiar)
        return replace(result, language_source=detection.decided_by)

    def warm_up(self, texts: Iterable[str]) -> int:
        """Read texts once, without answering, so per-word caches are full before citizens arrive.

        After a restart every word is new to the caches of stems, n-grams, concepts and
        language statistics, and the first minute's messages cost several times more. The
        content's own examples hold most words citizens use. Returns how many texts were read.
        """
        rank_sync = getattr(self.engine, "rank_sync", None)
        count = 0
        for text in texts:
            normalized = normalize(text[:MAX_CLASSIFIED_CHARS])
            detection = self.identifier.detect(text, None, self.settings.default_language, normalized=normalized)
            self.crisis.scan(text, normalized=normalized)
            self.identifier.known_words(text, normalized=normalized)
            if rank_sync is not None:
                rank_sync(text, detection.language, normalized=normalized)
            count += 1
        return count

    def decide(
        self,
        text: str,
        language: Language,
        ranking: Sequence[IntentScore],
        signal: CrisisSignal | None = None,
        *,
        familiar: bool = True,
    ) -> ParseResult:
        """Apply the contract's order of decisions to an engine's ranking.

        Decisions use probability mass, not only the top intent: all crisis intents
        together, all handoff intents together, and for an answer the topic whose
        intents together are most likely. Many intents share a topic, so a message can
        be clearly about debts while no single debt intent is sure.
        """
        known = [score for score in ranking if score.name in self.intents]
        top_ranking = tuple(known[:RANKING_SIZE])
        by_action: dict[str, float] = defaultdict(float)
        by_topic: dict[str, float] = defaultdict(float)
        best_of_topic: dict[str, IntentScore] = {}
        for score in known:
            info = self.intents[score.name]
            by_action[info.action] += score.confidence
            if info.action == "answer":
                by_topic[info.topic] += score.confidence
                best_of_topic.setdefault(info.topic, score)
        settings = self.settings

        def fallback(intent: str, confidence: float) -> ParseResult:
            return ParseResult(text, language, intent, confidence, "none", "fallback", top_ranking)

        signal = signal or CrisisSignal()
        crisis_mass = by_action["crisis"]
        if (
            signal.strong
            or crisis_mass >= settings.crisis_threshold
            or (signal.weak and crisis_mass >= settings.weak_crisis_threshold)
        ):
            return ParseResult(
                text,
                language,
                self._crisis_intent,
                1.0 if signal.strong else min(max(crisis_mass, 0.0), 1.0),
                self._topic_of(known),
                "crisis",
                top_ranking,
                signal.reasons,
            )
        if not known:
            return fallback(FALLBACK_INTENT, 0.0)
        if by_action["handoff"] >= settings.handoff_threshold:
            return ParseResult(
                text,
                language,
                self._handoff_intent,
                min(by_action["handoff"], 1.0),
                self._topic_of(known),
                "handoff",
                top_ranking,
            )
        top = known[0]
        if not familiar:
            # Not one familiar word: keyboard mashing or a language Neuvo does not speak.
            return fallback(FALLBACK_INTENT, top.confidence)
        if self.intents[top.name].action == "fallback":
            return fallback(top.name, top.confidence)
        if not by_topic:
            return fallback(FALLBACK_INTENT, top.confidence)
        topic = max(by_topic, key=lambda name: by_topic[name])
        if by_topic[topic] < settings.fallback_threshold:
            return fallback(FALLBACK_INTENT, top.confidence)
        chosen = best_of_topic[topic]
        return ParseResult(text, language, chosen.name, chosen.confidence, topic, "answer", top_ranking)

    def _topic_of(self, ranking: Sequence[IntentScore]) -> str:
        """The service area a handoff or crisis message is about, when it clearly names one."""
        mass: dict[str, float] = defaultdict(float)
        for score in ranking:
            info = self.intents[score.name]
            if info.topic in SERVICE_TOPICS and info.action == "answer":
                mass[info.topic] += score.confidence
        total = sum(mass.values())
        if total < TOPIC_MASS:
            return "none"
        topic, best = max(mass.items(), key=lambda item: item[1])
        return topic if best / total >= TOPIC_SHARE else "none"
