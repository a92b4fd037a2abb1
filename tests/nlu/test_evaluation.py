"""Scoring as the contract defines it, and the evaluate command end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nlu.contract import ParseResult
from nlu.evaluation import Case, read_cases, score_cases


def case(id_: str, lang: str, topic: str, action: str) -> Case:
    return Case(id_, "x", lang, topic, action, 1)


def reading(lang: str, topic: str, action: str) -> ParseResult:
    return ParseResult("x", lang, "i", 0.9, topic, action)  # type: ignore[arg-type]


def test_each_figure_is_computed_over_the_cases_the_contract_names() -> None:
    outcomes = [
        (case("a", "fi", "income_support", "answer"), reading("fi", "income_support", "answer")),
        (case("b", "fi", "elderly", "answer"), reading("sv", "disability", "answer")),  # topic and language wrong
        (case("c", "fi", "none", "crisis"), reading("fi", "none", "crisis")),
        (case("d", "en", "none", "crisis"), reading("en", "none", "answer")),  # a missed crisis
        (case("e", "fi", "none", "fallback"), reading("fi", "none", "crisis")),  # a false crisis
        (case("f", "sv", "families", "handoff"), reading("sv", "families", "handoff")),
    ]
    scores = score_cases(outcomes)
    assert scores.topic_accuracy == 0.5  # over the two answer cases
    assert scores.action_accuracy == 4 / 6
    assert scores.crisis_recall == 0.5
    assert scores.false_crisis_rate == 0.25  # one of the four non-crisis cases
    assert scores.language_accuracy == 5 / 6
    assert scores.missed_crises == ["d"]
    assert scores.false_crises == ["e"]
    assert ("elderly", "disability", 1) in scores.topic_confusions


def test_bad_case_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(
        b'{"id": "1", "text": "moi", "lang": "fi", "topic": "none", "action": "answer"}\n'
        b"not json\n"
        b'{"id": "2", "text": "x", "lang": "de", "topic": "none", "action": "answer"}\n'
        b"\xff\n"
    )
    cases, problems = read_cases(path)
    assert [c.id for c in cases] == ["1"]
    assert len(problems) == 3
    assert all(str(path) in problem for problem in problems)


def test_evaluate_prints_the_figures_as_json(test_config, root: Path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "NEUVO_NLU__MODEL_DIR": str(test_config.nlu.model_dir)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(root / "config.yml"),
            "evaluate",
            "--folds",
            "0",
            "--cases",
            str(root / "tests" / "data" / "dev_cases.jsonl"),
            "--json",
        ],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    figures = report["cases"]
    assert figures["cases"] == 420
    assert figures["crisis_recall"] == 1.0
    assert figures["false_crisis_rate"] <= 0.02
    assert figures["topic_accuracy"] >= 0.9
    assert figures["action_accuracy"] >= 0.9
    assert figures["language_accuracy"] >= 0.95
