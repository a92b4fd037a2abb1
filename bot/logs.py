"""Structured logging: one JSON object per line, with the event's fields and never message text."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any, Final

#: Loggers whose arguments Neuvo controls (ids, counts, durations; never text or addresses).
OWN_LOGGERS: Final = frozenset({"bot", "nlu", "handoff", "benchmarks"})
#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats records as JSON lines.

    Callers log events with %-style arguments and ``extra`` fields (ids, counts,
    durations); citizens' words and personal data are never passed to a logger.
    """

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object for one record."""
        ours = record.name.split(".", 1)[0] in OWN_LOGGERS
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            # Other libraries' messages are kept as their templates: their arguments can be
            # client addresses ("Error handling request from %s") or request details.
            "event": record.getMessage() if ours else str(record.msg),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's class and where it was raised; never its message, which may quote input.
            entry["error"] = record.exc_info[0].__name__
            trace = record.exc_info[2]
            frames = traceback.extract_tb(trace) if trace is not None else []
            if frames:
                entry["where"] = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[-4:]]
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Send JSON lines to standard error; called once by the CLI."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
