"""The ``neuvo`` command line: one sub-command per task, errors as one clear line, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from nlu.errors import NeuvoError

from ..logs import configure_logging
from . import nlu_commands, server_commands, shell


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="neuvo", description="Neuvo: social-services chatbot with human handoff.")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="settings file (default: $NEUVO_CONFIG or ./config.yml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress on standard error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    nlu_commands.register(commands)
    shell.register(commands)
    server_commands.register(commands)
    from handoff import cli as handoff_cli  # it builds on the --db flag of server_commands, so after it

    handoff_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except NeuvoError as exc:
        print(f"neuvo {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (for example `neuvo parse | head`); nothing left to say.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
