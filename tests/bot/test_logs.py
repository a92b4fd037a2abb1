"""Logs are JSON lines and never carry what a citizen wrote or where they connect from."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import AccessLogger
from bot.logs import JsonFormatter


def record(name: str, message: str, *args: object, **extra: object) -> logging.LogRecord:
    item = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    item.__dict__.update(extra)
    return item


def test_our_events_are_json_with_their_fields() -> None:
    line = JsonFormatter().format(record("bot.dialogue.core", "turn", conversation="abc", ms=1.5))
    entry = json.loads(line)
    assert entry["event"] == "turn"
    assert (entry["conversation"], entry["ms"]) == ("abc", 1.5)


def test_other_libraries_arguments_are_not_written() -> None:
    line = JsonFormatter().format(record("aiohttp.server", "Error handling request from %s", "203.0.113.7"))
    assert "203.0.113.7" not in line
    assert json.loads(line)["event"] == "Error handling request from %s"


def test_an_exception_is_named_and_located_but_its_message_is_not_written() -> None:
    try:
        raise ValueError("henkilötunnus 131052-308T")
    except ValueError:
        import sys

        item = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(item))
    assert entry["error"] == "ValueError"
    assert "131052" not in json.dumps(entry)
    assert entry["where"]


class CountingAccessLogger(AccessLogger):
    calls = 0

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        CountingAccessLogger.calls += 1
        super().log(request, response, time)


async def logged_server(app: web.Application, logger: logging.Logger) -> TestServer:
    server = TestServer(app)
    await server.start_server(access_log_class=CountingAccessLogger, access_log=logger)
    return server


async def test_an_access_line_names_the_request_but_not_its_query_or_address(aiohttp_client: Any) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, item: logging.LogRecord) -> None:
            lines.append(item.getMessage())

    logger = logging.getLogger("bot.access.test")
    logger.addHandler(Collect())

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    try:
        logger.setLevel(logging.INFO)
        client = await aiohttp_client(await logged_server(app, logger))
        assert (await client.get("/health?token=secret-value")).status == 200
        await client.close()
        assert len(lines) == 1
        entry = json.loads(lines[0])
        assert (entry["event"], entry["method"], entry["path"], entry["status"]) == ("request", "GET", "/health", 200)
        assert "secret-value" not in lines[0]
        assert "127.0.0.1" not in lines[0]

        logger.setLevel(logging.WARNING)  # the default: no line is even formatted
        calls = CountingAccessLogger.calls
        client = await aiohttp_client(await logged_server(app, logger))
        assert (await client.get("/health")).status == 200
        assert CountingAccessLogger.calls == calls
        assert len(lines) == 1
    finally:
        logger.handlers.clear()
