"""An intent engine that asks a Rasa server (``rasa run --enable-api``) to rank intents."""

from __future__ import annotations

import aiohttp

from .contract import IntentScore, Language
from .errors import EngineError


class RasaHttpEngine:
    """Ranks intents with Rasa's ``POST /model/parse``.

    The Rasa model is trained with ``rasa train nlu --nlu data/intents`` from the same
    files, so intents, topics and actions line up with the embedded engine. One
    ``ClientSession`` is kept for the engine's lifetime, never one per request.
    """

    name = "rasa"

    def __init__(self, url: str, timeout_seconds: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def rank(self, text: str, language: Language, *, normalized: str | None = None) -> list[IntentScore]:
        """Rasa's ``intent_ranking``, most likely first.

        Raises:
            EngineError: when the server cannot be reached or answers something unexpected.

        """
        try:
            async with self._client().post(f"{self.url}/model/parse", json={"text": text}) as response:
                if response.status != 200:
                    raise EngineError(f"Rasa server answered HTTP {response.status}")
                body = await response.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise EngineError(f"Rasa server at {self.url} failed: {exc.__class__.__name__}") from exc
        ranking = body.get("intent_ranking") if isinstance(body, dict) else None
        if not isinstance(ranking, list):
            intent = body.get("intent") if isinstance(body, dict) else None
            ranking = [intent] if isinstance(intent, dict) else []
        scores: list[IntentScore] = []
        for item in ranking:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                confidence = item.get("confidence", 0.0)
                if isinstance(confidence, int | float):
                    scores.append(IntentScore(item["name"], min(max(float(confidence), 0.0), 1.0)))
        scores.sort(key=lambda score: -score.confidence)
        return scores

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
