"""Conversation server targets: 500 widget conversations, >= 1,000 messages/s, p99 < 100 ms, memory."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = 500
RATE = 1000.0
SECONDS = 20.0
#: Fresh servers measured; the median run (by p99) is reported, with every run's p99.
RUNS = 3


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int, seconds: float = 120) -> None:
    """Wait until the server answers /ready."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not become ready")


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def texts() -> list[str]:
    """Citizen-like messages: the texts of the labelled case files."""
    found: list[str] = []
    for name in ("dev_cases.jsonl", "holdout_cases.jsonl"):
        found += [json.loads(line)["text"] for line in (ROOT / "tests" / "data" / name).read_text().splitlines()]
    return found


def run_load(port: int, texts_file: Path, server_pid: int, rate: float) -> tuple[dict[str, Any], float]:
    """Drive the load against a server; returns the figures and the server's memory with all conversations open."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.ws_load",
        "--url",
        f"ws://127.0.0.1:{port}/ws",
        "--origin",
        f"http://127.0.0.1:{port}",
        "--conversations",
        str(CONVERSATIONS),
        "--rate",
        str(rate),
        "--seconds",
        str(SECONDS),
        "--texts",
        str(texts_file),
        "--hold",
        "2",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())
    assert first["event"] == "all_open"
    open_memory, _ = rss_mb(server_pid)
    result = json.loads(process.stdout.readline())
    process.wait(timeout=60)
    return result, open_memory


def stored(database: Path) -> tuple[int, int]:
    """Citizen messages stored, and client ids stored more than once."""
    with sqlite3.connect(database) as connection:
        citizen = connection.execute("select count(*) from messages where sender = 'citizen'").fetchone()[0]
        duplicates = connection.execute(
            "select count(*) from (select conversation_id, client_id from messages where client_id is not null "
            "group by conversation_id, client_id having count(*) > 1)"
        ).fetchone()[0]
    return int(citizen), int(duplicates)


def neuvo_server(directory: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start `neuvo serve` on a fresh SQLite database, limits opened for the load."""
    database = directory / "bench.db"
    port = free_port()
    env = {
        **os.environ,
        "NEUVO_WIDGET__MESSAGES_PER_MINUTE": "100000",
        "NEUVO_WIDGET__BURST": "100000",
        "NEUVO_WIDGET__CONNECTIONS_PER_ADDRESS": "10000",
        "NEUVO_NLU__MODEL_DIR": str(ROOT / ".neuvo" / "model"),
    }
    neuvo = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yml")]
    subprocess.run([*neuvo, "db", "upgrade", "--db", f"sqlite:///{database}"], check=True, env=env, capture_output=True)
    server = subprocess.Popen(
        [*neuvo, "serve", "--port", str(port), "--db", f"sqlite:///{database}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(port)
    return server, port, database


def run() -> tuple[str, dict[str, Any]]:
    """Measure the server and the echo ceiling; describe them as markdown."""
    subprocess.run([sys.executable, "-m", "bot", "train"], cwd=ROOT, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        texts_file = directory / "texts.json"
        texts_file.write_text(json.dumps(texts(), ensure_ascii=False))
        runs = []
        for attempt in range(RUNS):
            run_directory = directory / f"run{attempt}"
            run_directory.mkdir()
            server, port, database = neuvo_server(run_directory)
            try:
                measured, open_memory = run_load(port, texts_file, server.pid, RATE)
                _, peak_memory = rss_mb(server.pid)
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=30)
            runs.append((measured, open_memory, peak_memory, *stored(database)))
        # The run with the median p99 stands for all (a shared 2-core machine is noisy); all p99s are shown.
        runs.sort(key=lambda run: run[0]["p99_ms"])
        neuvo, open_memory, peak_memory, citizen, _ = runs[len(runs) // 2]
        every_p99 = ", ".join(f"{run[0]['p99_ms']:.1f}" for run in runs)
        echo_port = free_port()
        echo = subprocess.Popen([sys.executable, "-m", "benchmarks.echo_server", "--port", str(echo_port)], cwd=ROOT)
        try:
            wait_ready(echo_port)
            ceiling, _ = run_load(echo_port, texts_file, echo.pid, RATE)
        finally:
            echo.send_signal(signal.SIGINT)
            echo.wait(timeout=30)
    # Losses and duplicates count over every run, not only the median one.
    lost = sum(run[0]["sent"] - run[3] for run in runs)
    sent = sum(run[0]["sent"] for run in runs)
    duplicates = sum(run[4] for run in runs)
    duplicate_acks = sum(run[0]["duplicate_acks"] for run in runs)
    ratio = neuvo["p99_ms"] / ceiling["p99_ms"] if ceiling["p99_ms"] else float("nan")
    rows = [
        (
            "messages answered per second (500 conversations)",
            ">= 1000",
            f"{neuvo['throughput']:.0f}",
            neuvo["throughput"] >= 1000,
        ),
        (
            f"round trip p99 (send -> stored -> replies -> ack), median of {RUNS} runs",
            "< 100 ms",
            f"{neuvo['p99_ms']:.1f} ms (runs: {every_p99})",
            neuvo["p99_ms"] < 100,
        ),
        ("round trip p50 / p90", "", f"{neuvo['p50_ms']:.1f} / {neuvo['p90_ms']:.1f} ms", None),
        (f"messages lost (sent - stored), all {RUNS} runs", "0", f"{lost} of {sent}", lost == 0),
        (
            f"messages stored twice / acks received twice, all {RUNS} runs",
            "0",
            f"{duplicates} / {duplicate_acks}",
            duplicates == 0 and duplicate_acks == 0,
        ),
        (
            "server memory with 500 conversations open (peak)",
            "< 300 MB",
            f"{open_memory:.0f} MB ({peak_memory:.0f} MB)",
            peak_memory < 300,
        ),
    ]
    table = "\n".join(
        f"| {name} | {target} | {value} | {'' if good is None else ('met' if good else '**NOT MET**')} |"
        for name, target, value, good in rows
    )
    markdown = f"""## Conversation server (issue: conversation server)

`neuvo serve` on SQLite (the `make run` default) in one process; a separate load process holds
{CONVERSATIONS} widget conversations over WebSocket and sends {RATE:.0f} citizen messages per second
in total for {SECONDS:.0f} s (open loop: each conversation every {CONVERSATIONS / RATE:.1f} s, random phase), on a
fresh server and database each of {RUNS} times; the run with the median p99 is shown, with every run's p99. The
texts are drawn from the labelled case files. Each message is redacted, read by the NLU, answered by the
dialogue policy, stored with its replies in one (group-committed) transaction, delivered, then acknowledged.

| figure | target | measured | |
|---|---|---|---|
{table}

The ceiling, the same load against a bare aiohttp WebSocket server that acknowledges each message at
once (no NLU, no storage, `benchmarks/echo_server.py`): {ceiling["throughput"]:.0f} messages/s, round trip
p50 {ceiling["p50_ms"]:.1f} ms, p99 {ceiling["p99_ms"]:.1f} ms. Neuvo's p99 is {ratio:.1f} times the ceiling's
at this rate.
"""
    return markdown, {
        "neuvo": neuvo,
        "ceiling": ceiling,
        "open_memory_mb": open_memory,
        "peak_memory_mb": peak_memory,
        "stored": citizen,
        "duplicates": duplicates,
    }
