"""Reading the intent files of ``data/intents`` (Rasa NLU YAML) into typed content with line numbers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from .contract import ACTIONS, LANGUAGES, TOPICS, Action
from .errors import ContentError

#: A reference to a county fact inside an answer, for example ``{phone.income_support}``.
PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")
#: Characters Rasa reads as entity annotation inside an example.
_ANNOTATION_CHARS: Final = re.compile(r"[\[\]{}()]")

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the content, located so an editor can go straight to it."""

    path: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Example:
    """One training message and where it was written."""

    text: str
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class IntentSpec:
    """An intent with everything the bot needs about it: topic, action, labels, answers, examples."""

    name: str
    topic: str
    action: Action
    title: dict[str, str]
    answer: dict[str, str]
    related: tuple[str, ...]
    examples: tuple[Example, ...]
    path: str
    line: int
    #: Line of each answer text, per language, for validation messages.
    answer_lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A Rasa lookup table: a concept and the word stems that stand for it."""

    name: str
    entries: tuple[str, ...]
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Content:
    """All intents and lookup tables of a content directory."""

    intents: dict[str, IntentSpec]
    lookups: dict[str, Lookup]

    def examples(self) -> Iterator[tuple[str, IntentSpec]]:
        """Every (example text, intent) pair, in file order."""
        for intent in self.intents.values():
            for example in intent.examples:
                yield example.text, intent

    def fingerprint(self) -> str:
        """A hash of everything training depends on, so an unchanged content skips retraining."""
        digest = hashlib.sha256()
        for intent in sorted(self.intents.values(), key=lambda i: i.name):
            digest.update(f"\x00{intent.name}\x00{intent.topic}\x00{intent.action}".encode())
            for example in intent.examples:
                digest.update(b"\x01" + example.text.encode())
        for lookup in sorted(self.lookups.values(), key=lambda item: item.name):
            digest.update(f"\x02{lookup.name}".encode())
            for entry in lookup.entries:
                digest.update(b"\x03" + entry.encode())
        return digest.hexdigest()


def content_files(directory: Path) -> list[Path]:
    """The YAML files Rasa would read from a content directory, in a stable order."""
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def read_content(directory: Path) -> tuple[Content, list[Problem]]:
    """Read every intent file, collecting problems instead of stopping at the first one."""
    problems: list[Problem] = []
    intents: dict[str, IntentSpec] = {}
    lookups: dict[str, Lookup] = {}
    if not directory.is_dir():
        problems.append(Problem(str(directory), 0, "content directory does not exist"))
        return Content(intents, lookups), problems
    files = content_files(directory)
    if not files:
        problems.append(Problem(str(directory), 0, "no .yml files with intents found"))
    extensions: list[tuple[str, list[Example], str, int]] = []
    for path in files:
        _read_file(path, intents, lookups, problems, extensions)
    for name, examples, path_name, line in extensions:
        if name not in intents:
            problems.append(
                Problem(path_name, line, f"examples for intent '{name}', which no file defines with metadata")
            )
            continue
        base = intents[name]
        intents[name] = replace(base, examples=base.examples + tuple(examples))
    return Content(intents, lookups), problems


def load_content(directory: Path) -> Content:
    """Read the content and refuse it if anything is broken enough to stop training.

    Raises:
        ContentError: naming every error found, one per line.

    """
    content, problems = read_content(directory)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        listing = "\n".join(str(p) for p in errors[:50])
        more = f"\n... and {len(errors) - 50} more" if len(errors) > 50 else ""
        raise ContentError(f"the content has {len(errors)} error(s):\n{listing}{more}")
    if not content.intents:
        raise ContentError("the content has no intents", path=str(directory))
    return content


def _read_file(
    path: Path,
    intents: dict[str, IntentSpec],
    lookups: dict[str, Lookup],
    problems: list[Problem],
    extensions: list[tuple[str, list[Example], str, int]],
) -> None:
    name = str(path)
    try:
        raw = path.read_bytes()
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 1, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return
    except OSError as exc:
        problems.append(Problem(name, 0, f"cannot read: {exc.strerror}"))
        return
    loader: yaml.SafeLoader | None = None
    try:
        # The reader refuses control characters (a NUL byte) already when the loader is made.
        loader = yaml.SafeLoader(source)
        node = loader.get_single_node()
        if node is None:
            problems.append(Problem(name, 1, "the file is empty", "warning"))
            return
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(name, line, f"YAML error: {exc.problem or exc}"))
        return
    except yaml.YAMLError as exc:
        problems.append(Problem(name, yaml_error_line(exc, source), f"YAML error: {yaml_error_message(exc)}"))
        return
    except Exception as exc:
        # PyYAML's constructors raise plain ValueError, IndexError and the like on impossible
        # scalars (`2024-13-45`, `!!int x`, `!!float` with no value), and deep nesting a RecursionError.
        problems.append(Problem(name, 1, f"YAML error: cannot read a value ({type(exc).__name__}: {exc})"))
        return
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(name, 1, "the top level must be a mapping with 'version' and 'nlu'"))
        return
    if str(data.get("version", "")) != "3.1":
        problems.append(Problem(name, 1, 'missing or unexpected version: write version: "3.1"'))
    nodes = _mapping_nodes(node)
    if "nlu" not in data:
        problems.append(Problem(name, 1, "no 'nlu:' section"))
        return
    nlu_node = nodes["nlu"]
    items = data["nlu"]
    if not isinstance(items, list) or not isinstance(nlu_node, yaml.SequenceNode):
        problems.append(Problem(name, _line(nlu_node), "'nlu' must be a list of intents"))
        return
    for item, item_node in zip(items, nlu_node.value, strict=True):
        line = _line(item_node)
        if not isinstance(item, dict) or not isinstance(item_node, yaml.MappingNode):
            problems.append(Problem(name, line, "each 'nlu' entry must be a mapping"))
            continue
        if "intent" in item and "metadata" not in item and isinstance(item["intent"], str):
            # As in Rasa, more examples for an intent defined (with its metadata) elsewhere.
            examples = _read_examples(
                name, item["intent"], item.get("examples"), _mapping_nodes(item_node).get("examples"), line, problems
            )
            extensions.append((item["intent"], examples, name, line))
        elif "intent" in item:
            spec = _read_intent(name, item, _mapping_nodes(item_node), line, problems)
            if spec is None:
                continue
            if spec.name in intents:
                first = intents[spec.name]
                problems.append(Problem(name, line, f"intent '{spec.name}' also at {first.path}:{first.line}"))
                continue
            intents[spec.name] = spec
        elif "lookup" in item:
            lookup = _read_lookup(name, item, _mapping_nodes(item_node), line, problems)
            if lookup is None:
                continue
            if lookup.name in lookups:
                first_lookup = lookups[lookup.name]
                problems.append(
                    Problem(
                        name,
                        line,
                        f"lookup '{lookup.name}' also at {first_lookup.path}:{first_lookup.line}",
                    )
                )
                continue
            lookups[lookup.name] = lookup
        elif "synonym" in item or "regex" in item:
            continue  # valid Rasa data the embedded engine does not use
        else:
            problems.append(Problem(name, line, "entry is neither an intent nor a lookup table"))


def _read_intent(
    path: str,
    item: dict[str, Any],
    nodes: dict[str, yaml.Node],
    line: int,
    problems: list[Problem],
) -> IntentSpec | None:
    name = item["intent"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        problems.append(Problem(path, line, f"intent name {name!r} must be lower-case letters, digits and _"))
        return None
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        problems.append(Problem(path, line, f"intent '{name}' has no metadata with its topic"))
        return None
    meta_nodes = _mapping_nodes(nodes["metadata"])
    meta_line = lambda key: _line(meta_nodes.get(key, nodes["metadata"]))  # noqa: E731
    topic = metadata.get("topic")
    if topic not in TOPICS:
        problems.append(
            Problem(
                path,
                meta_line("topic"),
                f"intent '{name}': unknown topic {topic!r}; one of {', '.join(TOPICS)}",
            )
        )
        return None
    action = metadata.get("action", "answer")
    if action not in ACTIONS:
        problems.append(
            Problem(
                path,
                meta_line("action"),
                f"intent '{name}': unknown action {action!r}; one of {', '.join(ACTIONS)}",
            )
        )
        return None
    title = _language_texts(path, name, "title", metadata, meta_nodes, meta_line, problems)
    answer = _language_texts(path, name, "answer", metadata, meta_nodes, meta_line, problems)
    answer_lines: dict[str, int] = {}
    if "answer" in meta_nodes and isinstance(meta_nodes["answer"], yaml.MappingNode):
        for key, value_node in _mapping_nodes(meta_nodes["answer"]).items():
            answer_lines[key] = _line(value_node)
    related_raw = metadata.get("related", [])
    if not isinstance(related_raw, list) or not all(isinstance(r, str) for r in related_raw):
        problems.append(Problem(path, meta_line("related"), f"intent '{name}': related must be a list of intent names"))
        related_raw = []
    examples = _read_examples(path, name, item.get("examples"), nodes.get("examples"), line, problems)
    return IntentSpec(
        name=name,
        topic=topic,
        action=action,
        title=title,
        answer=answer,
        related=tuple(related_raw),
        examples=tuple(examples),
        path=path,
        line=line,
        answer_lines=answer_lines,
    )


def _language_texts(
    path: str,
    intent: str,
    key: str,
    metadata: dict[str, Any],
    meta_nodes: dict[str, yaml.Node],
    meta_line: Any,
    problems: list[Problem],
) -> dict[str, str]:
    value = metadata.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(path, meta_line(key), f"intent '{intent}': {key} must map fi/sv/en to text"))
        return {}
    texts: dict[str, str] = {}
    for language, text in value.items():
        if language not in LANGUAGES:
            problems.append(
                Problem(path, meta_line(key), f"intent '{intent}': {key} has unknown language {language!r}")
            )
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(path, meta_line(key), f"intent '{intent}': {key}.{language} is empty"))
        else:
            texts[language] = text.strip()
    return texts


def _read_examples(
    path: str,
    intent: str,
    value: Any,
    node: yaml.Node | None,
    intent_line: int,
    problems: list[Problem],
) -> list[Example]:
    if value is None or node is None:
        problems.append(Problem(path, intent_line, f"intent '{intent}' has no examples"))
        return []
    if not isinstance(value, str):
        problems.append(Problem(path, _line(node), f"intent '{intent}': examples must be a '|' block of '- ' lines"))
        return []
    # A literal block starts on the line after its '|' indicator.
    first_line = node.start_mark.line + (2 if getattr(node, "style", None) in ("|", ">") else 1)
    examples: list[Example] = []
    for offset, raw in enumerate(value.split("\n")):
        stripped = raw.strip()
        if not stripped:
            continue
        line = first_line + offset
        if not stripped.startswith("- "):
            problems.append(Problem(path, line, f"intent '{intent}': example must start with '- '"))
            continue
        text = stripped[2:].strip()
        if not text:
            problems.append(Problem(path, line, f"intent '{intent}': empty example"))
            continue
        if _ANNOTATION_CHARS.search(text):
            problems.append(
                Problem(
                    path,
                    line,
                    f"intent '{intent}': brackets or braces in an example are read as entity annotation by Rasa",
                )
            )
            continue
        examples.append(Example(text, path, line))
    return examples


def _read_lookup(
    path: str,
    item: dict[str, Any],
    nodes: dict[str, yaml.Node],
    line: int,
    problems: list[Problem],
) -> Lookup | None:
    name = item["lookup"]
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        problems.append(Problem(path, line, f"lookup name {name!r} must be lower-case letters, digits and _"))
        return None
    examples = _read_examples(path, f"lookup {name}", item.get("examples"), nodes.get("examples"), line, problems)
    entries = tuple(dict.fromkeys(e.text.casefold() for e in examples))
    return Lookup(name, entries, path, line)


def yaml_error_line(error: yaml.YAMLError, source: str) -> int:
    """The 1-based line a YAML error points at (a reader error gives only a character position)."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        return mark.line + 1 if mark else 1
    position = getattr(error, "position", None)
    if isinstance(position, int) and isinstance(source, str):
        return source.count("\n", 0, position) + 1
    return 1


def yaml_error_message(error: yaml.YAMLError) -> str:
    """A YAML error in one line, without PyYAML's ``in "<unicode string>"`` location (the problem has it)."""
    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        code = ord(character) if isinstance(character, str) else character
        return f"character #x{code:04x} is not allowed in YAML ({error.reason})"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _mapping_nodes(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def placeholders(text: str) -> Iterable[str]:
    """The county-fact keys an answer text refers to."""
    return (match.group(1) for match in PLACEHOLDER.finditer(text))
