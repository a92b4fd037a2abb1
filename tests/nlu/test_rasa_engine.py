"""The Rasa engine talks real HTTP to a Rasa-compatible `/model/parse` on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from nlu.crisis import default_detector
from nlu.errors import EngineError
from nlu.interpreter import Interpreter
from nlu.model import NluModel
from nlu.rasa_engine import RasaHttpEngine
from nlu.settings import NluSettings

SEEN = web.AppKey("seen", list)


async def fake_rasa(answer: dict[str, Any], status: int = 200) -> TestServer:
    seen: list[dict[str, Any]] = []

    async def parse(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_post("/model/parse", parse)
    app[SEEN] = seen
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


RANKING = {
    "text": "x",
    "intent": {"name": "debt_advice_help", "confidence": 0.7},
    "intent_ranking": [
        {"name": "debt_advice_help", "confidence": 0.7},
        {"name": "debt_restructuring", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ],
}


async def test_the_ranking_comes_from_the_server_and_the_interpreter_decides(model: NluModel) -> None:
    server = await fake_rasa(RANKING)
    engine = RasaHttpEngine(str(server.make_url("")))
    try:
        interpreter = Interpreter(engine, model.intents, model.identifier, default_detector(), NluSettings())
        result = await interpreter.parse("mulla on velkoja")
        assert (result.intent, result.topic, result.action) == ("debt_advice_help", "debt_advice", "answer")
        assert server.app[SEEN] == [{"text": "mulla on velkoja"}]
        crisis = await interpreter.parse("velat kasvaa enkä jaksa enää elää")
        assert crisis.action == "crisis"  # the curated patterns work whatever the engine
    finally:
        await engine.close()
        await server.close()


@pytest.mark.parametrize(("answer", "status"), [({"oops": 1}, 500), ("not json", 200)])
async def test_a_failing_server_is_a_clear_engine_error(answer: Any, status: int) -> None:
    server = await fake_rasa(answer if isinstance(answer, dict) else {}, status=status)
    engine = RasaHttpEngine(str(server.make_url("")))
    try:
        if status == 200:
            assert await engine.rank("x", "fi") == []
        else:
            with pytest.raises(EngineError, match="HTTP 500"):
                await engine.rank("x", "fi")
    finally:
        await engine.close()
        await server.close()


async def test_an_unreachable_server_is_a_clear_engine_error() -> None:
    engine = RasaHttpEngine("http://127.0.0.1:9", timeout_seconds=1)
    try:
        with pytest.raises(EngineError, match="failed"):
            await engine.rank("x", "fi")
    finally:
        await engine.close()
