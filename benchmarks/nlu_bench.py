"""NLU targets: training time, parse latency (p50/p99) and peak memory of `neuvo parse`."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from nlu.content import load_content
from nlu.crisis import default_detector
from nlu.interpreter import Interpreter
from nlu.model import NluModel
from nlu.settings import NluSettings
from nlu.training import train_model

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [
    ROOT / "tests" / "data" / "dev_cases.jsonl",
    ROOT / "tests" / "data" / "holdout_cases.jsonl",
    ROOT.parent / "shared" / "eval" / "sample_cases.jsonl",
]


@dataclass
class NluFigures:
    """Measured NLU figures."""

    train_seconds: list[float]
    examples: int
    cold_p50_ms: float
    cold_p99_ms: float
    warm_p50_ms: float
    warm_p99_ms: float
    messages: int
    parse_peak_mb: float
    parse_lines: int


def corpus() -> list[str]:
    """Citizen-like messages for timing: the labelled case files (only their text)."""
    texts: list[str] = []
    for path in CORPORA:
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [json.loads(line)["text"] for line in lines if line.strip()]
    return texts


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure_training(rounds: int = 3) -> tuple[list[float], int, NluModel]:
    """Wall time of training on all content, several rounds, in this process."""
    content = load_content(ROOT / "data" / "intents")
    times = []
    model = None
    for _ in range(rounds):
        started = time.perf_counter()
        model = train_model(content)
        times.append(time.perf_counter() - started)
    assert model is not None
    return times, model.examples, model


def measure_latency(model: NluModel, texts: list[str]) -> tuple[list[float], list[float]]:
    """Per-message parse time: first sight of every message (cold caches), then again (warm)."""
    interpreter = Interpreter(model.engine, model.intents, model.identifier, default_detector(), NluSettings())
    loop = asyncio.new_event_loop()
    rounds: list[list[float]] = []
    for _ in range(2):
        times = []
        for text in texts:
            started = time.perf_counter()
            loop.run_until_complete(interpreter.parse(text))
            times.append((time.perf_counter() - started) * 1000)
        rounds.append(times)
    loop.close()
    return rounds[0], rounds[1]


#: Runs a command and writes its peak RSS (KiB) to a file. The command must be forked from this
#: small process: Linux keeps ru_maxrss across exec, so a child forked straight from the benchmark
#: (which holds a trained model) would report the benchmark's own footprint.
LAUNCHER = """
import os, subprocess, sys
out, command = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
with open(out, "w") as handle:
    handle.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_memory_mb(command: list[str], stdin: bytes, env: dict[str, str]) -> tuple[float, bytes, bytes]:
    """Run a command with some standard input; its peak resident memory, output and errors."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "maxrss"
        result = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *command],
            input=stdin,
            capture_output=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr.decode())
        return int(report.read_text()) / 1024, result.stdout, result.stderr


def measure_parse_memory(model: NluModel, texts: list[str]) -> tuple[float, int]:
    """Peak resident memory of a `neuvo parse` process reading every message on stdin."""
    with tempfile.TemporaryDirectory() as directory:
        model.save(Path(directory))
        stdin = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts))
        env = {**os.environ, "NEUVO_NLU__MODEL_DIR": directory}
        command = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yml"), "parse"]
        peak, output, errors = peak_memory_mb(command, stdin.encode(), env)
        if b"Training" in errors:
            raise RuntimeError("neuvo parse retrained instead of loading the benchmark's model")
        return peak, len(output.decode().splitlines())


def run() -> tuple[str, dict[str, object]]:
    """Measure and describe the NLU figures as markdown, with the raw numbers."""
    texts = corpus()
    train_times, examples, model = measure_training()
    cold, warm = measure_latency(model, texts)
    peak_mb, lines = measure_parse_memory(model, texts)
    figures = NluFigures(
        train_times,
        examples,
        percentile(cold, 0.5),
        percentile(cold, 0.99),
        percentile(warm, 0.5),
        percentile(warm, 0.99),
        len(texts),
        peak_mb,
        lines,
    )
    train_median = statistics.median(train_times)
    runs = ", ".join(f"{t:.2f}" for t in train_times)
    rows = [
        (
            f"training on all content ({examples} examples), median of {len(train_times)}",
            "< 10 s",
            f"{train_median:.2f} s (runs: {runs})",
            train_median < 10,
        ),
        (
            "parse p50, first sight of each message (cold caches)",
            "< 2 ms",
            f"{figures.cold_p50_ms:.2f} ms",
            figures.cold_p50_ms < 2,
        ),
        (
            "parse p99, first sight of each message (cold caches)",
            "< 10 ms",
            f"{figures.cold_p99_ms:.2f} ms",
            figures.cold_p99_ms < 10,
        ),
        (
            "parse p50 / p99, messages seen before (warm)",
            "",
            f"{figures.warm_p50_ms:.2f} / {figures.warm_p99_ms:.2f} ms",
            None,
        ),
        (f"peak memory of `neuvo parse` over {lines} lines", "< 250 MB", f"{peak_mb:.0f} MB", peak_mb < 250),
    ]
    table = "\n".join(
        f"| {name} | {target} | {value} | {'' if good is None else ('met' if good else '**NOT MET**')} |"
        for name, target, value, good in rows
    )
    markdown = f"""## NLU (issue: foundation)

| figure | target | measured | |
|---|---|---|---|
{table}

Latency is measured in one process over {len(texts)} citizen-like messages (the text of the
dev, hold-out and sample case files), through `Interpreter.parse` (language, crisis patterns,
classifier, decision), single-threaded. Memory is the peak resident set size of a real
`python -m bot parse` process reading all of them on standard input.
"""
    raw = {
        "train_seconds": train_times,
        "examples": examples,
        "cold_p50_ms": figures.cold_p50_ms,
        "cold_p99_ms": figures.cold_p99_ms,
        "warm_p50_ms": figures.warm_p50_ms,
        "warm_p99_ms": figures.warm_p99_ms,
        "parse_peak_mb": peak_mb,
        "messages": len(texts),
    }
    return markdown, raw
