"""`neuvo parse` as a program: the JSON Lines contract of shared/spec/nlu-contract.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Config
from nlu.contract import TOPICS

CONTRACT_KEYS = ["id", "text", "language", "intent", "confidence", "topic", "action"]


def run_parse(stdin: bytes, env_model_dir: Path, root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NEUVO_NLU__MODEL_DIR": str(env_model_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(root / "config.yml"), "parse", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def parsed(test_config: Config, root: Path) -> list[dict[str, object]]:
    lines = [
        {"id": "a", "text": "miten haen toimeentulotukea", "lang": "fi"},
        {"id": 7, "text": "hur ansöker jag om färdtjänst"},
        {"text": "how do I apply for daycare"},
        {"id": "crisis", "text": "en jaksa enää elää"},
        {"id": "empty", "text": ""},
        {"id": "emoji", "text": "😀😀😀"},
        {"id": "long", "text": "toimeentulotuki " * 7000},
    ]
    stdin = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    stdin += b"this is not json\n" + b'{"text": 5}\n' + b'["text"]\n' + b"\xff\xfe broken utf-8\n"
    result = run_parse(stdin, test_config.nlu.model_dir, root)
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_one_output_line_per_input_line_in_order(parsed: list[dict[str, object]]) -> None:
    assert len(parsed) == 11
    assert [p.get("id") for p in parsed[:7]] == ["a", 7, None, "crisis", "empty", "emoji", "long"]


def test_every_result_has_exactly_the_contract_keys_with_valid_values(parsed: list[dict[str, object]]) -> None:
    for result in parsed[:7]:
        assert list(result) == CONTRACT_KEYS
        assert result["language"] in ("fi", "sv", "en")
        assert result["topic"] in TOPICS
        assert result["action"] in ("answer", "handoff", "crisis", "fallback")
        assert isinstance(result["confidence"], float)
        assert 0.0 <= result["confidence"] <= 1.0
        if result["action"] == "fallback":
            assert result["topic"] == "none"


def test_the_readings_are_right_for_clear_messages(parsed: list[dict[str, object]]) -> None:
    assert (parsed[0]["topic"], parsed[0]["action"], parsed[0]["language"]) == ("income_support", "answer", "fi")
    assert (parsed[1]["topic"], parsed[1]["language"]) == ("disability", "sv")
    assert (parsed[2]["topic"], parsed[2]["language"]) == ("early_education", "en")
    assert parsed[3]["action"] == "crisis"
    assert parsed[4]["action"] == parsed[5]["action"] == "fallback"
    assert parsed[6]["text"] == "toimeentulotuki " * 7000


def test_bad_lines_get_an_error_line_and_the_run_goes_on(parsed: list[dict[str, object]]) -> None:
    for bad in parsed[7:]:
        assert set(bad) == {"id", "error"}
        assert bad["id"] is None
        assert isinstance(bad["error"], str)
        assert bad["error"]
    assert "UTF-8" in str(parsed[10]["error"])


def test_without_a_model_parse_trains_first_and_says_so_on_stderr_only(tmp_path: Path, root: Path) -> None:
    result = run_parse(b'{"id": 1, "text": "moi"}\n', tmp_path / "fresh-model", root)
    assert result.returncode == 0
    assert "Training the NLU model first" in result.stderr.decode()
    (line,) = result.stdout.decode().splitlines()
    assert json.loads(line)["intent"] == "greet"


def test_ranking_flag_adds_the_top_intents(test_config: Config, root: Path) -> None:
    result = run_parse(b'{"text": "miten haen toimeentulotukea"}\n', test_config.nlu.model_dir, root, "--ranking")
    data = json.loads(result.stdout)
    assert len(data["ranking"]) == 5
    assert data["ranking"][0]["intent"] == data["intent"]
