"""Reading Rasa NLU YAML content: what is accepted, and where a problem is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from nlu.content import load_content, read_content
from nlu.contract import TOPICS
from nlu.errors import ContentError
from tests.yaml_sources import any_source, write_source

INTENT = """version: "3.1"
nlu:
- intent: income_support_apply
  metadata:
    topic: income_support
    title:
      fi: Hakeminen
      sv: Ansökan
      en: Applying
    answer:
      fi: Hae Kelasta. {phone.income_support}
      sv: Ansök hos FPA.
      en: Apply at Kela.
  examples: |
    - miten haen toimeentulotukea
    - hur söker jag utkomststöd
    - how do I apply for income support
- lookup: income_support_benefit
  examples: |
    - toimeentulotu
    - Utkomstst
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_intent_is_read_with_topic_answers_examples_and_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    content = load_content(tmp_path)
    intent = content.intents["income_support_apply"]
    assert intent.topic == "income_support"
    assert intent.action == "answer"
    assert intent.answer["fi"] == "Hae Kelasta. {phone.income_support}"
    assert [e.text for e in intent.examples] == [
        "miten haen toimeentulotukea",
        "hur söker jag utkomststöd",
        "how do I apply for income support",
    ]
    assert [e.line for e in intent.examples] == [15, 16, 17]
    assert content.lookups["income_support_benefit"].entries == ("toimeentulotu", "utkomstst")


def test_the_fingerprint_changes_with_examples_but_not_with_answers(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    before = load_content(tmp_path).fingerprint()
    write(tmp_path, "income.yml", INTENT.replace("Apply at Kela.", "Apply at Kela online."))
    assert load_content(tmp_path).fingerprint() == before
    write(tmp_path, "income.yml", INTENT.replace("    - miten haen toimeentulotukea\n", ""))
    assert load_content(tmp_path).fingerprint() != before


@pytest.mark.parametrize(
    ("broken", "line", "message"),
    [
        (INTENT.replace("topic: income_support", "topic: taxes"), 5, "unknown topic 'taxes'"),
        (
            INTENT.replace("    topic: income_support\n", "    topic: income_support\n    action: sing\n"),
            6,
            "unknown action 'sing'",
        ),
        (INTENT.replace("- miten haen toimeentulotukea", "- miten [haen](verb) tukea"), 15, "entity annotation"),
        (INTENT.replace("    - hur söker", "    hur söker"), 16, "must start with '- '"),
        (INTENT.replace("nlu:\n", "nlu:\n  - : [\n"), 3, "YAML error"),
        (INTENT.replace('version: "3.1"', 'version: "2.0"'), 1, "version"),
    ],
)
def test_each_problem_is_reported_with_its_file_and_line(tmp_path: Path, broken: str, line: int, message: str) -> None:
    path = write(tmp_path, "income.yml", broken)
    _, problems = read_content(tmp_path)
    assert any(p.path == str(path) and p.line == line and message in p.message for p in problems), problems


def test_load_refuses_content_with_errors_naming_every_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", INTENT.replace("topic: income_support", "topic: taxes"))
    write(tmp_path, "b.yml", "version: '3.1'\nnlu: [")
    with pytest.raises(ContentError) as raised:
        load_content(tmp_path)
    assert "a.yml:5" in str(raised.value)
    assert "b.yml" in str(raised.value)


def test_the_same_intent_in_two_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", INTENT)
    write(tmp_path, "b.yml", INTENT.replace("- lookup: income_support_benefit", "- lookup: other"))
    _, problems = read_content(tmp_path)
    assert any("also at" in p.message and "income_support_apply" in p.message for p in problems)


def test_binary_and_non_utf8_files_are_problems_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes(INTENT.encode("latin-1", "replace").replace(b"\xf6", b"\xf6\xff"))
    (tmp_path / "binary.yml").write_bytes(bytes(range(256)))
    _, problems = read_content(tmp_path)
    assert {Path(p.path).name for p in problems} >= {"latin1.yml", "binary.yml"}


def test_a_missing_directory_is_a_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="does not exist"):
        load_content(tmp_path / "nowhere")


def test_the_repository_content_covers_every_topic(content) -> None:  # type: ignore[no-untyped-def]
    topics = {intent.topic for intent in content.intents.values()}
    assert topics == set(TOPICS)
    service_intents = [i for i in content.intents.values() if i.topic != "none"]
    assert len(service_intents) >= 45
    assert {i.action for i in content.intents.values()} == {"answer", "handoff", "crisis", "fallback"}


def test_an_intent_can_get_more_examples_from_another_file_as_in_rasa(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    write(
        tmp_path,
        "more.yml",
        'version: "3.1"\nnlu:\n- intent: income_support_apply\n  examples: |\n    - totu hakemus\n',
    )
    intent = load_content(tmp_path).intents["income_support_apply"]
    assert intent.examples[-1].text == "totu hakemus"
    assert intent.examples[-1].path.endswith("more.yml")


def test_examples_for_an_intent_nobody_defines_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "more.yml", 'version: "3.1"\nnlu:\n- intent: nowhere\n  examples: |\n    - totu hakemus\n')
    _, problems = read_content(tmp_path)
    assert any("which no file defines" in p.message for p in problems)


# --- malformed input: a problem naming the file, never a traceback ------------------------------

MALFORMED = [
    pytest.param(INTENT.encode().replace(b"nlu:\n", b"nlu:\x00\n"), 2, "#x0000", id="nul-byte"),
    pytest.param(b'version: "3.1"\nnlu:\n- intent: a\x07b\n', 3, "#x0007", id="bell-character"),
    pytest.param(b'version: "3.1"\nnlu: 2024-13-45\n', 1, "ValueError", id="impossible-date"),
    pytest.param(b'version: "3.1"\nnlu: !!int many\n', 1, "ValueError", id="bad-int-tag"),
    pytest.param(b'version: "3.1"\nnlu: !!float\n', 1, "IndexError", id="empty-float-tag"),
    pytest.param(b"nlu: " + b"[" * 2000 + b"]" * 2000 + b"\n", 1, "RecursionError", id="deep-sequence"),
    pytest.param(b"nlu: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n", 1, "RecursionError", id="deep-mapping"),
]


@pytest.mark.parametrize(("data", "line", "detail"), MALFORMED)
def test_malformed_yaml_is_a_problem_at_the_file_not_a_crash(
    tmp_path: Path, data: bytes, line: int, detail: str
) -> None:
    path = tmp_path / "broken.yml"
    path.write_bytes(data)
    write(tmp_path, "income.yml", INTENT)
    content, problems = read_content(tmp_path)
    broken = [p for p in problems if p.path == str(path)]
    assert [(p.line, p.severity) for p in broken] == [(line, "error")], problems
    assert broken[0].message.startswith("YAML error")
    assert detail in broken[0].message
    assert "income_support_apply" in content.intents  # the other files are still read


def test_load_content_names_a_file_with_a_nul_byte_in_its_error(tmp_path: Path) -> None:
    write(tmp_path, "income.yml", INTENT)
    (tmp_path / "nul.yml").write_bytes(b'version: "3.1"\nnlu: []\n\x00')
    with pytest.raises(ContentError, match=r"nul\.yml:3: error: YAML error: character #x0000"):
        load_content(tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=any_source(
        'version: "3.1"',
        "nlu:",
        "intent: ",
        "lookup: ",
        "metadata: ",
        "topic: ",
        "action: ",
        "title: ",
        "answer: ",
        "related: ",
        "examples: ",
        "fi: ",
        "income_support",
        "crisis",
    )
)
def test_read_content_never_raises_on_any_file(tmp_path: Path, source: str | bytes) -> None:
    path = tmp_path / "any.yml"
    write_source(path, source)
    content, problems = read_content(tmp_path)
    assert all(p.path == str(path) and p.line >= 0 for p in problems)
    assert all(i.path == str(path) for i in content.intents.values())
    errors = [p for p in problems if p.severity == "error"]
    refused: ContentError | None = None
    try:
        load_content(tmp_path)
    except ContentError as exc:  # the one error type, naming the file
        refused = exc
    if refused is None:
        assert not errors
    else:
        assert str(tmp_path) in str(refused)
