"""``neuvo shell``: a terminal chat with the bot, for editors and developers."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from nlu.content import Content, load_content
from nlu.contract import ParseResult
from nlu.loader import open_interpreter

from ..answers import pick, render
from ..config import Config, load_config
from ..messages import Messages

PROMPT = "> "


def register(commands: Any) -> None:
    """Add the shell sub-command to the CLI."""
    shell = commands.add_parser("shell", help="chat with the bot in the terminal")
    shell.add_argument("--debug", action="store_true", help="show the bot's reading of each message")
    shell.set_defaults(handler=run_shell)


def reply_for(result: ParseResult, content: Content, messages: Messages, config: Config) -> str:
    """What the bot says to one message, without dialogue state (the server adds that)."""
    language = result.language
    if result.action in ("answer", "crisis"):
        intent = content.intents.get(result.intent)
        if intent and intent.answer:
            return render(pick(intent.answer, language), config, language)
    if result.action == "handoff":
        return messages.get("handoff_started", language) + "\n" + messages.get("shell_handoff", language)
    return render(messages.get("fallback", language), config, language)


def run_shell(args: argparse.Namespace) -> int:
    """Read lines until end of input or 'exit', answering each in its language."""
    config = load_config(args.config)
    content = load_content(config.nlu.content_dir)
    messages = Messages.load(Path(config.nlu.content_dir).parent / "messages.yml")
    interpreter = open_interpreter(config.nlu, announce=lambda m: print(m, file=sys.stderr, flush=True))
    interactive = sys.stdin.isatty()
    if interactive:
        print("Neuvo shell. Write a message; 'exit' or Ctrl-D ends.")

    async def loop() -> None:
        language: str | None = None
        try:
            while True:
                if interactive:
                    print(PROMPT, end="", flush=True)
                raw = sys.stdin.buffer.readline()
                if not raw:
                    break
                text = raw.decode("utf-8", "replace").strip()
                if text.lower() in {"exit", "quit", "lopeta"}:
                    break
                if not text:
                    continue
                result = await interpreter.parse(text, language)
                language = result.language
                if args.debug:
                    print(
                        f"  [{result.language} {result.intent} {result.confidence:.2f} "
                        f"topic={result.topic} action={result.action}"
                        f"{' crisis=' + ','.join(result.crisis_reasons) if result.crisis_reasons else ''}]"
                    )
                print(reply_for(result, content, messages, config))
        finally:
            await interpreter.engine.close()

    asyncio.run(loop())
    return 0
