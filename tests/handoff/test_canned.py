"""Canned responses for advisors: the shipped content is complete, and every editor mistake is found at its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.canned import CannedResponses, load_canned, read_canned, validate_canned
from nlu.contract import LANGUAGES
from nlu.errors import ContentError
from tests.nlu.test_content import INTENT
from tests.nlu.test_validation import SPECIAL
from tests.yaml_sources import yaml_like

ROOT = Path(__file__).resolve().parents[2]
CANNED = ROOT / "data" / "canned"
KEYS = {"phone.social_services", "url.eservices", "hours.phone"}

VALID = """# a comment
responses:
  - id: greeting
    title: {fi: "Tervehdys", sv: "Hälsning", en: "Greeting"}
    topics: []
    text:
      fi: "Hei, miten voin auttaa?"
      sv: "Hej, hur kan jag hjälpa dig?"
      en: "Hello, how can I help?"
  - id: call_us
    title: {fi: "Soita", sv: "Ring", en: "Call"}
    topics: [income_support]
    text:
      fi: "Soita {phone.social_services} {hours.phone}."
      sv: "Ring {phone.social_services} {hours.phone}."
      en: "Call {phone.social_services} {hours.phone}."
"""


class Facts:
    """County facts as the config gives them: some one value, some per language."""

    values: ClassVar[dict[str, dict[str, str]]] = {
        "phone.social_services": {"fi": "09 100", "sv": "09 100", "en": "09 100"},
        "hours.phone": {"fi": "ma-pe klo 9-15", "sv": "mån-fre kl. 9-15", "en": "Mon-Fri 9 am to 3 pm"},
    }

    def fact(self, key: str, language: str) -> str:
        return self.values[key][language]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(directory: Path, keys: set[str] = KEYS) -> list[str]:
    return [str(p) for p in validate_canned(directory, keys) if p.severity == "error"]


# --- the repository's own content -------------------------------------------------------------


def test_the_repository_canned_responses_validate_without_errors(repo_config) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(CANNED, repo_config.placeholder_keys()) == []


def test_every_repository_response_has_every_language_and_fills_its_placeholders(repo_config) -> None:  # type: ignore[no-untyped-def]
    canned = load_canned(CANNED)
    assert len(canned) >= 25
    for response in canned.responses:
        assert set(response.title) == set(LANGUAGES), response.id
        assert set(response.text) == set(LANGUAGES), response.id
    for language in LANGUAGES:
        for item in canned.for_language(language, repo_config):
            assert "{" not in item["text"], item
            assert "}" not in item["text"], item
            assert "{" not in item["title"], item
            assert item["text"].strip()
            assert item["title"].strip()


def test_the_repository_has_the_responses_advisors_rely_on(repo_config) -> None:  # type: ignore[no-untyped-def]
    canned = load_canned(CANNED)
    crisis = canned.get("crisis_line")
    assert crisis is not None
    texts = {language: crisis.as_dict(language, repo_config)["text"] for language in LANGUAGES}
    assert "09 2525 0111" in texts["fi"]
    assert "09 2525 0112" in texts["sv"]
    assert all("112" in text for text in texts.values())
    basic = canned.get("income_support_basic")
    assert basic is not None
    assert "Kela" in basic.text["fi"]


# --- reading and rendering --------------------------------------------------------------------


def test_a_response_is_read_with_its_file_line_topics_and_texts(tmp_path: Path) -> None:
    path = write(tmp_path, "general.yml", VALID)
    canned, problems = read_canned(tmp_path)
    assert problems == []
    call = canned.get("call_us")
    assert call is not None
    assert (call.path, call.line, call.topics) == (str(path), 10, ("income_support",))
    assert call.text["sv"] == "Ring {phone.social_services} {hours.phone}."
    assert canned.get("nothing") is None


def test_as_dict_renders_placeholders_in_the_language_asked(tmp_path: Path) -> None:
    write(tmp_path, "general.yml", VALID)
    call = load_canned(tmp_path).get("call_us")
    assert call is not None
    assert call.as_dict("sv", Facts()) == {
        "id": "call_us",
        "title": "Ring",
        "text": "Ring 09 100 mån-fre kl. 9-15.",
        "topics": ["income_support"],
    }
    assert call.as_dict("en", Facts())["text"] == "Call 09 100 Mon-Fri 9 am to 3 pm."


def test_for_language_puts_the_topic_first_then_general_responses_then_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", VALID)
    write(
        tmp_path,
        "b.yml",
        VALID.replace("greeting", "closing").replace("call_us", "elderly_line").replace("income_support", "elderly"),
    )
    canned = load_canned(tmp_path)
    ids = lambda topic: [item["id"] for item in canned.for_language("fi", Facts(), topic)]  # noqa: E731
    assert ids(None) == ["greeting", "call_us", "closing", "elderly_line"]
    assert ids("elderly") == ["elderly_line", "greeting", "closing", "call_us"]
    assert ids("income_support") == ["call_us", "greeting", "closing", "elderly_line"]
    assert ids("families") == ["greeting", "closing", "call_us", "elderly_line"]


def test_load_canned_refuses_content_with_errors(tmp_path: Path) -> None:
    write(tmp_path, "general.yml", VALID.replace('      sv: "Hej, hur kan jag hjälpa dig?"\n', ""))
    with pytest.raises(ContentError, match=r"general\.yml:6: error: canned response 'greeting' has no Swedish text"):
        load_canned(tmp_path)


# --- problems, each at its file and line ------------------------------------------------------


def test_broken_yaml_is_an_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.yml", 'responses:\n  - id: x\n    title: {fi: "a", sv: "b"\n    text: {}\n')
    errors = errors_of(tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{tmp_path / 'broken.yml'}:4: error: YAML error")


def test_a_duplicate_id_across_two_files_is_an_error_at_the_second_naming_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", VALID)
    second = write(tmp_path, "b.yml", "responses:\n" + VALID.split("responses:\n")[1].split("  - id: call_us")[0])
    assert errors_of(tmp_path) == [f"{second}:2: error: canned response 'greeting' also at {first}:3"]
    canned, _ = read_canned(tmp_path)
    assert [r.id for r in canned.responses] == ["greeting", "call_us"]


def test_a_missing_language_is_an_error_at_the_mapping_line(tmp_path: Path) -> None:
    path = write(tmp_path, "general.yml", VALID.replace(', en: "Call"', ""))
    assert errors_of(tmp_path) == [f"{path}:11: error: canned response 'call_us' has no English title"]


def test_an_unknown_placeholder_is_an_error_at_its_text_line(tmp_path: Path) -> None:
    path = write(tmp_path, "general.yml", VALID.replace("Ring {phone.social_services}", "Ring {phone.nowhere}"))
    assert errors_of(tmp_path) == [
        f"{path}:15: error: canned response 'call_us': text (sv) refers to {{phone.nowhere}}, "
        "which is not a key under county: in config.yml"
    ]


def test_an_unknown_topic_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = VALID.replace("topics: [income_support]", "topics:\n      - income_support\n      - taxes")
    path = write(tmp_path, "general.yml", text)
    errors = errors_of(tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}:14: error: canned response 'call_us': unknown topic 'taxes'")


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  - id: call_us", "  - id: Call-Us", 10, "id 'Call-Us' must be lower-case letters a-z, digits and _"),
        ("  - id: call_us\n", "  - identifier: call_us\n", 10, "unknown key 'identifier'"),
        ('      fi: "Hei, miten voin auttaa?"', '      fi: "  "', 7, "canned response 'greeting': text.fi is empty"),
        ('      en: "Hello, how can I help?"', '      se: "Hej"', 9, "text has unknown language 'se'"),
        ("    topics: []", "    topics: income_support", 5, "topics must be a list of topic ids"),
        ("responses:", "answers:", 2, "unknown key 'answers' at the top level"),
    ],
)
def test_each_editor_mistake_is_an_error_at_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = write(tmp_path, "general.yml", VALID.replace(old, new, 1))
    errors = errors_of(tmp_path)
    assert any(e.startswith(f"{path}:{line}: error: ") and message in e for e in errors), errors


def test_an_absent_directory_is_one_problem(tmp_path: Path) -> None:
    problems = validate_canned(tmp_path / "canned", KEYS)
    assert [(p.line, p.severity) for p in problems] == [(0, "error")]
    assert "does not exist" in problems[0].message


def test_an_empty_file_is_only_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "general.yml", VALID)
    write(tmp_path, "empty.yml", "# nothing yet\n")
    assert [(p.severity, p.message) for p in validate_canned(tmp_path, KEYS)] == [("warning", "the file is empty")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.one_of(
        st.text(),
        yaml_like(
            "responses:",
            "id: ",
            "title: ",
            "text: ",
            "topics: ",
            "fi: ",
            "sv: ",
            "en: ",
            "greeting",
            "{phone.x}",
            "income_support",
        ),
    )
)
def test_read_canned_never_raises_on_any_text(tmp_path: Path, source: str) -> None:
    (tmp_path / "any.yml").write_text(source, encoding="utf-8")
    canned, problems = read_canned(tmp_path)
    assert isinstance(canned, CannedResponses)
    assert all(p.path.endswith("any.yml") and p.line >= 0 for p in problems)
    validate_canned(tmp_path, KEYS)


def test_read_canned_reports_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "latin1.yml").write_bytes("responses:\n  - id: hyvä\n".encode("latin-1"))
    _, problems = read_canned(tmp_path)
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [(1, "not UTF-8 text")]


# --- neuvo validate -------------------------------------------------------------------------


def neuvo_validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "validate"],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("NEUVO_")},
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    """A minimal complete data directory (intents, phrases, canned) and a config pointing at it."""
    (tmp_path / "intents").mkdir()
    write(tmp_path / "intents", "income.yml", INTENT)
    write(tmp_path / "intents", "special.yml", SPECIAL)
    write(tmp_path, "messages.yml", "menu_prompt: {fi: Valitse, sv: Välj, en: Choose}\n")
    (tmp_path / "canned").mkdir()
    write(tmp_path / "canned", "general.yml", VALID)
    return write(
        tmp_path,
        "config.yml",
        f"nlu:\n  content_dir: {tmp_path / 'intents'}\n"
        "county:\n  name: Esimerkkilä\n"
        "  phone: {income_support: 09 120, emergency: '112', social_services: 09 100}\n"
        "  url: {eservices: https://example.fi}\n"
        "  hours: {phone: {fi: ma-pe, sv: mån-fre, en: Mon-Fri}}\n",
    )


def test_neuvo_validate_counts_canned_responses_and_fails_on_a_broken_one(small_data: Path) -> None:
    canned = small_data.parent / "canned"
    result = neuvo_validate(small_data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 canned responses: 0 error(s), 0 warning(s)" in result.stdout

    write(canned, "broken.yml", "responses:\n  - id: bye\n    title: {fi: Hei hei}\n    text: {fi: '{phone.x}'}\n")
    result = neuvo_validate(small_data)
    assert result.returncode == 1
    assert f"{canned / 'broken.yml'}:3: error: canned response 'bye' has no Swedish title" in result.stdout
    assert f"{canned / 'broken.yml'}:4: error: canned response 'bye': text (fi) refers to {{phone.x}}" in result.stdout
    assert "canned responses: 5 error(s), 0 warning(s)" in result.stdout
    assert "lookup tables: 0 error(s)" in result.stdout  # the intents themselves are fine
