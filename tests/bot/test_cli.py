"""The `neuvo` command line: clear errors and exit codes, answers in the citizen's language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def neuvo(
    root: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
        cwd=root,
    )


def test_validate_passes_on_the_repository_content(root: Path) -> None:
    result = neuvo(root, "validate")
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


def test_validate_fails_with_file_and_line_on_broken_content(root: Path, tmp_path: Path) -> None:
    (tmp_path / "intents").mkdir()
    (tmp_path / "intents" / "broken.yml").write_text(
        "version: '3.1'\nnlu:\n- intent: x\n  metadata: {topic: taxes}\n  examples: |\n    - a\n"
    )
    config = tmp_path / "config.yml"
    config.write_text(f"nlu:\n  content_dir: {tmp_path / 'intents'}\n")
    result = neuvo(root, "--config", str(config), "validate")
    assert result.returncode == 1
    assert "broken.yml:4: error: intent 'x': unknown topic 'taxes'" in result.stdout


def test_a_bad_config_is_one_clear_message_without_a_traceback(root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("nlu:\n  fallback_threshold: lots\n")
    result = neuvo(root, "--config", str(config), "validate")
    assert result.returncode == 1
    assert "nlu.fallback_threshold: expected a number from 0 to 1, got 'lots'" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_reports_what_it_trained(root: Path, tmp_path: Path) -> None:
    result = neuvo(root, "train", env={"NEUVO_NLU__MODEL_DIR": str(tmp_path / "model")})
    assert result.returncode == 0, result.stderr
    assert "intents over 12 topics" in result.stdout
    assert (tmp_path / "model" / "neuvo-nlu.pkl").is_file()


def test_shell_answers_each_message_in_its_language(root: Path, test_config) -> None:  # type: ignore[no-untyped-def]
    result = neuvo(
        root,
        "shell",
        stdin="miten haen toimeentulotukea\nhur ansöker jag om färdtjänst\nen jaksa enää elää\n",
        env={"NEUVO_NLU__MODEL_DIR": str(test_config.nlu.model_dir)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Kela" in out  # the Finnish answer on basic income support
    assert "färdtjänst" in out.lower() or "FPA" in out or "Färdtjänst" in out
    assert "112" in out  # crisis guidance
    assert "{phone." not in out  # every placeholder filled from config.yml


def test_shell_survives_binary_and_empty_input(root: Path, test_config) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=b"\xff\xfe\x00binary\n\n   \n\xf0\x9f\x98\x80\n",
        capture_output=True,
        env={**os.environ, "NEUVO_NLU__MODEL_DIR": str(test_config.nlu.model_dir)},
        timeout=300,
        check=False,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
