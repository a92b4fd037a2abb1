"""`make bench`: run every benchmark and write docs/benchmarks.md with how it was made."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

from . import handoff_bench, nlu_bench, server_bench, telegram_bench

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    """The commit measured, marked when the working tree has changes."""
    try:

        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain")
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    """Run the benchmarks and write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="markdown file to write (default: print only)")
    args = parser.parse_args()
    sections = []
    for name, module in [
        ("nlu", nlu_bench),
        ("server", server_bench),
        ("handoff", handoff_bench),
        ("telegram", telegram_bench),
    ]:
        print(f"running {name} benchmark...", file=sys.stderr, flush=True)
        markdown, _ = module.run()
        sections.append(markdown)
    report = (
        "# Benchmarks\n\n"
        "Made by `make bench` (`.venv/bin/python -m benchmarks.run --write docs/benchmarks.md`) on "
        f"{datetime.date.today().isoformat()}, commit {commit()}.\n\n"
        f"Machine: {machine()}.\n\n" + "\n".join(sections)
    )
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
