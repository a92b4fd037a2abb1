"""Canned responses: ready-made replies an advisor inserts in the console and edits before sending.

They are content, not code: YAML files in ``data/canned`` that a content editor maintains in
Finnish, Swedish and English, checked by ``neuvo validate`` with the same file-and-line problems
as the intents, so a typo is found before an advisor meets it in a live chat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from bot.answers import Facts, pick, render
from nlu.content import Problem, placeholders
from nlu.contract import LANGUAGES, TOPICS
from nlu.errors import ContentError

#: What an id may look like: it names the response to the console and in editors' messages, so keep it plain.
ID_PATTERN: Final = re.compile(r"[a-z0-9_]+")
#: Keys an item may have; anything else is most likely a typo that would silently lose data.
ITEM_KEYS: Final = ("id", "title", "topics", "text")
#: Keys a file may have at its top level.
FILE_KEYS: Final = ("responses",)
#: A text longer than this is flagged: a chat reply should be 1-3 sentences the advisor can still edit.
LONG_TEXT: Final = 500
_LANGUAGE_NAMES: Final = {"fi": "Finnish", "sv": "Swedish", "en": "English"}


@dataclass(frozen=True, slots=True)
class CannedResponse:
    """One ready-made reply in every language, and where it is written so problems can point at it."""

    id: str
    title: Mapping[str, str]
    text: Mapping[str, str]
    topics: tuple[str, ...]
    path: str
    line: int
    #: Line of each language's title and text, for validation messages.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self, language: str, facts: Facts) -> dict[str, Any]:
        """The response as the console shows it: one language, county facts filled in."""
        return {
            "id": self.id,
            "title": render(pick(self.title, language), facts, language),
            "text": render(pick(self.text, language), facts, language),
            "topics": list(self.topics),
        }


@dataclass(frozen=True)
class CannedResponses:
    """Every canned response of a content directory, in file order."""

    responses: tuple[CannedResponse, ...]
    _by_id: dict[str, CannedResponse] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {response.id: response for response in self.responses})

    def __len__(self) -> int:
        return len(self.responses)

    def for_language(self, language: str, facts: Facts, topic: str | None = None) -> list[dict[str, Any]]:
        """The list an advisor picks from: the conversation's topic first, then general ones, then the rest.

        Within each group the file order is kept, so editors decide the order of related responses.
        """
        if topic is None:
            ordered = list(self.responses)
        else:
            ordered = sorted(self.responses, key=lambda response: _relevance(response, topic))
        return [response.as_dict(language, facts) for response in ordered]

    def get(self, id: str) -> CannedResponse | None:
        """The response with this id, or None when there is none (an old link, a deleted response)."""
        return self._by_id.get(id)


def _relevance(response: CannedResponse, topic: str) -> int:
    """0 for a response about the topic, 1 for one meant for any topic, 2 for one about another topic."""
    if topic in response.topics:
        return 0
    return 1 if not response.topics else 2


def canned_files(directory: Path) -> list[Path]:
    """The YAML files of a canned-responses directory, in a stable order so duplicates are reported stably."""
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def read_canned(directory: Path) -> tuple[CannedResponses, list[Problem]]:
    """Read every file, collecting problems instead of stopping at the first one; never raises on bad files.

    A response with a broken id or no usable text is left out; others are kept even with
    problems (a missing language falls back to Finnish), so a server can still offer them.
    """
    problems: list[Problem] = []
    responses: dict[str, CannedResponse] = {}
    if not directory.is_dir():
        problems.append(Problem(str(directory), 0, "canned responses directory does not exist"))
        return CannedResponses(()), problems
    files = canned_files(directory)
    if not files:
        problems.append(Problem(str(directory), 0, "no .yml files with canned responses found"))
    for path in files:
        for response in _read_file(path, problems):
            first = responses.get(response.id)
            if first is not None:
                message = f"canned response '{response.id}' also at {first.path}:{first.line}"
                problems.append(Problem(response.path, response.line, message))
                continue
            responses[response.id] = response
    return CannedResponses(tuple(responses.values())), problems


def load_canned(directory: Path) -> CannedResponses:
    """Read the canned responses and refuse them if anything is wrong enough to show advisors.

    Raises:
        ContentError: naming every error found, one per line.

    """
    canned, problems = read_canned(directory)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        listing = "\n".join(str(p) for p in errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        raise ContentError(f"the canned responses have {len(errors)} error(s):\n{listing}{more}")
    return canned


def validate_canned(directory: Path, placeholder_keys: Iterable[str]) -> list[Problem]:
    """Every problem of the canned responses, errors and warnings, in file order (``neuvo validate``)."""
    canned, problems = read_canned(directory)
    known = set(placeholder_keys)
    for response in canned.responses:
        problems.extend(_check_placeholders(response, known))
    problems.sort(key=lambda p: (p.path, p.line, p.message))
    return problems


def _check_placeholders(response: CannedResponse, known: set[str]) -> list[Problem]:
    """Unknown placeholders would reach the citizen as ``{phone.x}``; report each at its line."""
    problems: list[Problem] = []
    for part, texts in (("title", response.title), ("text", response.text)):
        for language, value in texts.items():
            for key in placeholders(value):
                if key not in known:
                    problems.append(
                        Problem(
                            response.path,
                            response.lines.get(f"{part}.{language}", response.line),
                            f"canned response '{response.id}': {part} ({language}) refers to {{{key}}}, "
                            "which is not a key under county: in config.yml",
                        )
                    )
    return problems


def _read_file(path: Path, problems: list[Problem]) -> list[CannedResponse]:
    """The responses of one file; every problem goes to ``problems``."""
    name = str(path)
    parsed = _parse_yaml(path, problems)
    if parsed is None:
        return []
    data, node = parsed
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(name, 1, "the top level must be a mapping with 'responses:'"))
        return []
    mapping = _Mapping.of(node)
    for key in data:
        if key not in FILE_KEYS:
            problems.append(Problem(name, mapping.line(key), f"unknown key {key!r} at the top level"))
    if "responses" not in data:
        problems.append(Problem(name, 1, "no 'responses:' list"))
        return []
    items, items_node = data["responses"], mapping.value("responses")
    if items is None or items == []:
        problems.append(Problem(name, mapping.line("responses"), "the file has no responses", "warning"))
        return []
    if not isinstance(items, list) or not isinstance(items_node, yaml.SequenceNode):
        problems.append(Problem(name, mapping.line("responses"), "'responses' must be a list of responses"))
        return []
    responses = []
    for item, item_node in zip(items, items_node.value, strict=True):
        response = _read_item(name, item, item_node, problems)
        if response is not None:
            responses.append(response)
    return responses


def _parse_yaml(path: Path, problems: list[Problem]) -> tuple[Any, yaml.Node] | None:
    """The document and its node tree (for line numbers), or None after recording why not."""
    name = str(path)
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return None
    except OSError as exc:
        problems.append(Problem(name, 0, f"cannot read: {exc.strerror}"))
        return None
    loader: yaml.SafeLoader | None = None
    try:
        # The reader refuses control characters already when the loader is made.
        loader = yaml.SafeLoader(source)
        node = loader.get_single_node()
        if node is None:
            problems.append(Problem(name, 1, "the file is empty", "warning"))
            return None
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.append(Problem(name, mark.line + 1 if mark else 1, f"YAML error: {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, f"YAML error: {exc}"))
    except Exception as exc:
        # PyYAML's constructors raise plain ValueError, IndexError, AttributeError and the like on
        # impossible scalars (`2024-13-45`, `!!float` with no value), and deep nesting a RecursionError.
        problems.append(Problem(name, 1, f"YAML error: cannot read a value ({type(exc).__name__}: {exc})"))
    finally:
        if loader is not None:
            loader.dispose()
    return None


def _read_item(path: str, item: Any, node: yaml.Node, problems: list[Problem]) -> CannedResponse | None:
    """One response, or None when it has no usable id or text."""
    line = _line(node)
    if not isinstance(item, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(path, line, "each response must be a mapping with id, title, topics and text"))
        return None
    mapping = _Mapping.of(node)
    for key in item:
        if key not in ITEM_KEYS:
            problems.append(Problem(path, mapping.line(key), f"unknown key {key!r}; one of {', '.join(ITEM_KEYS)}"))
    response_id = item.get("id")
    if response_id is None:
        problems.append(Problem(path, line, "response has no id"))
        return None
    if not isinstance(response_id, str) or not ID_PATTERN.fullmatch(response_id):
        problems.append(
            Problem(path, mapping.line("id"), f"id {response_id!r} must be lower-case letters a-z, digits and _")
        )
        return None
    lines: dict[str, int] = {}
    title = _language_texts(path, response_id, "title", item, mapping, problems, lines)
    text = _language_texts(path, response_id, "text", item, mapping, problems, lines)
    topics = _read_topics(path, response_id, item, mapping, problems)
    if not text:
        return None
    return CannedResponse(response_id, title, text, topics, path, line, lines)


def _language_texts(
    path: str,
    response_id: str,
    key: str,
    item: dict[str, Any],
    mapping: _Mapping,
    problems: list[Problem],
    lines: dict[str, int],
) -> dict[str, str]:
    """A fi/sv/en mapping of non-empty texts; every missing, empty or unknown language is an error."""
    where = f"canned response '{response_id}'"
    value = item.get(key)
    if value is None:
        problems.append(Problem(path, mapping.line(key), f"{where} has no {key}"))
        return {}
    key_line = mapping.line(key)
    if not isinstance(value, dict):
        problems.append(Problem(path, key_line, f"{where}: {key} must map fi, sv and en to text"))
        return {}
    languages = _Mapping.of(mapping.value(key))
    texts: dict[str, str] = {}
    for language, content in value.items():
        content_line = languages.line(language)
        if language not in LANGUAGES:
            problems.append(Problem(path, content_line, f"{where}: {key} has unknown language {language!r}"))
        elif not isinstance(content, str) or not content.strip():
            problems.append(Problem(path, content_line, f"{where}: {key}.{language} is empty"))
        else:
            texts[language] = content.strip()
            lines[f"{key}.{language}"] = content_line
            if key == "text" and len(texts[language]) > LONG_TEXT:
                problems.append(
                    Problem(
                        path,
                        content_line,
                        f"{where}: text.{language} has {len(texts[language])} characters; "
                        f"keep a chat reply under {LONG_TEXT}",
                        "warning",
                    )
                )
    for language in LANGUAGES:
        if language not in value:
            problems.append(Problem(path, key_line, f"{where} has no {_LANGUAGE_NAMES[language]} {key}"))
    return texts


def _read_topics(
    path: str, response_id: str, item: dict[str, Any], mapping: _Mapping, problems: list[Problem]
) -> tuple[str, ...]:
    """The topic ids the response is most relevant to; unknown ones are errors at their own line."""
    value = item.get("topics")
    if value is None:
        return ()
    node = mapping.value("topics")
    if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
        message = f"canned response '{response_id}': topics must be a list of topic ids"
        problems.append(Problem(path, mapping.line("topics"), message))
        return ()
    topics: list[str] = []
    for topic, topic_node in zip(value, node.value, strict=True):
        if topic not in TOPICS:
            message = f"canned response '{response_id}': unknown topic {topic!r}; one of {', '.join(TOPICS)}"
            problems.append(Problem(path, _line(topic_node), message))
        elif topic not in topics:
            topics.append(topic)
    return tuple(topics)


@dataclass(frozen=True, slots=True)
class _Mapping:
    """A YAML mapping's nodes by key, so a problem can name the line of the key an editor wrote."""

    node: yaml.Node
    keys: dict[str, yaml.Node]
    values: dict[str, yaml.Node]

    @classmethod
    def of(cls, node: yaml.Node) -> _Mapping:
        """Index a mapping node; any other node has no keys, and every line falls back to its own."""
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        scalar_pairs = [(key, value) for key, value in pairs if isinstance(key, yaml.ScalarNode)]
        return cls(
            node,
            {str(key.value): key for key, _ in scalar_pairs},
            {str(key.value): value for key, value in scalar_pairs},
        )

    def line(self, key: object) -> int:
        """The line of a key, or of the mapping when the key is not written as plain text."""
        return _line(self.keys.get(str(key), self.node))

    def value(self, key: str) -> yaml.Node:
        """The value node of a key, or the mapping itself when there is none."""
        return self.values.get(key, self.node)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
