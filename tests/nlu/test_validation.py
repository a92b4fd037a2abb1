"""`neuvo validate`: every problem an editor can make is found, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu.validation import validate_content, validate_phrases
from tests.nlu.test_content import INTENT, write
from tests.yaml_sources import YAML_TRICKS, any_source, write_source

FACTS = {"phone.income_support", "phone.emergency", "name"}

SPECIAL = """version: "3.1"
nlu:
- intent: crisis
  metadata:
    topic: none
    action: crisis
    title: {fi: Kriisi, sv: Kris, en: Crisis}
    answer:
      fi: Soita {phone.emergency}
      sv: Ring {phone.emergency}
      en: Call {phone.emergency}
  examples: |
    - haluan kuolla
    - jag vill dö
    - I want to die
- intent: human_request
  metadata:
    topic: none
    action: handoff
  examples: |
    - haluan puhua ihmisen kanssa
    - jag vill prata med en människa
    - I want a real person
- intent: out_of_scope
  metadata:
    topic: none
    action: fallback
  examples: |
    - mikä sää huomenna
    - vad är klockan
    - what is the weather
"""


def problems_of(directory: Path) -> list[str]:
    _, problems = validate_content(directory, FACTS)
    return [str(p) for p in problems if p.severity == "error"]


def test_complete_content_has_no_errors(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    write(tmp_path, "special.yml", SPECIAL)
    assert problems_of(tmp_path) == []


def test_an_answer_referring_to_an_unknown_config_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT.replace("{phone.income_support}", "{phone.nowhere}"))
    write(tmp_path, "special.yml", SPECIAL)
    errors = problems_of(tmp_path)
    assert any("income.yml:11" in e and "{phone.nowhere}" in e for e in errors), errors


def test_an_answer_missing_a_language_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT.replace("      sv: Ansök hos FPA.\n", ""))
    write(tmp_path, "special.yml", SPECIAL)
    assert any("no Swedish answer" in e for e in problems_of(tmp_path))


def test_an_intent_without_examples_in_a_language_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT.replace("    - how do I apply for income support\n", ""))
    write(tmp_path, "special.yml", SPECIAL)
    assert any("income_support_apply' has no English examples" in e for e in problems_of(tmp_path))


def test_the_same_example_in_two_intents_is_an_error_naming_both_places(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    write(tmp_path, "special.yml", SPECIAL.replace("- mikä sää huomenna", "- Miten haen toimeentulotukea?"))
    errors = problems_of(tmp_path)
    assert any("special.yml:29" in e and "income.yml:15" in e for e in errors), errors


def test_a_near_duplicate_across_intents_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    write(tmp_path, "special.yml", SPECIAL.replace("- mikä sää huomenna", "- miten haen toimeentulotukee"))
    assert any("nearly the same" in e for e in problems_of(tmp_path))


def test_content_without_a_crisis_intent_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    assert any("action 'crisis'" in e for e in problems_of(tmp_path))


def test_broken_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", "version: '3.1'\nnlu:\n- intent: x\n  examples: |\n  - bad\n :")
    errors = problems_of(tmp_path)
    assert any("income.yml" in e and "YAML error" in e for e in errors)


def test_the_repository_content_validates_without_errors(repo_config) -> None:  # type: ignore[no-untyped-def]
    _, problems = validate_content(repo_config.nlu.content_dir, repo_config.placeholder_keys())
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_the_phrases_file_is_checked_for_yaml_languages_and_placeholders(tmp_path: Path) -> None:
    from nlu.validation import validate_phrases

    path = tmp_path / "messages.yml"
    path.write_text("a:\n  fi: x: y\n", encoding="utf-8")
    assert [p.line for p in validate_phrases(path, FACTS)] == [2]
    path.write_text("a:\n  fi: Soita {phone.nowhere}\n  sv: x\n", encoding="utf-8")
    messages = [p.message for p in validate_phrases(path, FACTS)]
    assert any("no English text" in m for m in messages)
    assert any("{phone.nowhere}" in m for m in messages)


def test_the_repository_phrases_are_valid(repo_config) -> None:  # type: ignore[no-untyped-def]
    from nlu.validation import validate_phrases

    path = repo_config.nlu.content_dir.parent / "messages.yml"
    assert [str(p) for p in validate_phrases(path, repo_config.placeholder_keys())] == []


# --- malformed input: a problem naming the file, never a traceback ------------------------------

MALFORMED_PHRASES = [
    pytest.param(b"greeting:\n  fi: Hei\x00\n", 2, "#x0000", id="nul-byte"),
    pytest.param(b"greeting:\n  fi: Hei\n  sv: Hej\x1b[0m\n", 3, "#x001b", id="escape-character"),
    pytest.param(b"greeting: 2024-13-45\n", 1, "ValueError", id="impossible-date"),
    pytest.param(b"greeting: !!int many\n", 1, "ValueError", id="bad-int-tag"),
    pytest.param(b"greeting: !!float\n", 1, "IndexError", id="empty-float-tag"),
    pytest.param(b"greeting: " + b"[" * 2000 + b"]" * 2000 + b"\n", 1, "RecursionError", id="deep-sequence"),
    pytest.param(b"greeting: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n", 1, "RecursionError", id="deep-mapping"),
]


@pytest.mark.parametrize(("data", "line", "detail"), MALFORMED_PHRASES)
def test_a_malformed_phrases_file_is_one_problem_naming_it(tmp_path: Path, data: bytes, line: int, detail: str) -> None:
    path = tmp_path / "messages.yml"
    path.write_bytes(data)
    problems = validate_phrases(path, FACTS)
    assert [(p.path, p.line, p.severity) for p in problems] == [(str(path), line, "error")]
    assert problems[0].message.startswith("YAML error")
    assert detail in problems[0].message
    assert str(path) in str(problems[0])


@pytest.mark.parametrize(("data", "line", "detail"), MALFORMED_PHRASES)
def test_validate_content_reports_a_malformed_intent_file_and_checks_the_rest(
    tmp_path: Path, data: bytes, line: int, detail: str
) -> None:
    write(tmp_path, "income.yml", INTENT)
    write(tmp_path, "special.yml", SPECIAL)
    (tmp_path / "broken.yml").write_bytes(data)
    errors = problems_of(tmp_path)
    assert any(f"broken.yml:{line}: error: YAML error" in e and detail in e for e in errors), errors


def test_content_with_intents_but_no_examples_at_all_is_reported_not_raised(tmp_path: Path) -> None:
    no_examples = INTENT.split("  examples: |")[0]
    write(tmp_path, "income.yml", no_examples)
    errors = problems_of(tmp_path)
    assert any("income.yml:3" in e and "has no examples" in e for e in errors), errors


PHRASE_KEYS = (
    "greeting:",
    "fi: ",
    "sv: ",
    "en: ",
    "Hei {name}",
    "{phone.nowhere}",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=any_source(*PHRASE_KEYS))
def test_validate_phrases_never_raises_on_any_file(tmp_path: Path, source: str | bytes) -> None:
    path = tmp_path / "messages.yml"
    write_source(path, source)
    problems = validate_phrases(path, FACTS)
    assert all(p.path == str(path) and p.line >= 0 for p in problems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    position=st.integers(min_value=0, max_value=len(INTENT)),
    cut=st.integers(min_value=0, max_value=40),
    piece=st.lists(st.sampled_from([*PHRASE_KEYS, *YAML_TRICKS]), max_size=4).map("".join),
)
def test_validate_content_never_raises_on_an_edited_intent_file(
    tmp_path: Path, position: int, cut: int, piece: str
) -> None:
    """An editor's half-finished change (text cut out, something typed in) is reported, never a crash."""
    path = write(tmp_path, "income.yml", INTENT[:position] + piece + INTENT[position + cut :])
    _, problems = validate_content(tmp_path, FACTS)
    assert all(p.path in (str(path), str(tmp_path)) and p.line >= 0 for p in problems)
