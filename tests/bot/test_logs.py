"""Logs are JSON lines and never carry what a citizen wrote or where they connect from."""

from __future__ import annotations

import json
import logging

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
