"""Checks an editor runs before a content change goes live (``neuvo validate``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from difflib import SequenceMatcher
from pathlib import Path
from typing import Final

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .content import (
    Content,
    Example,
    IntentSpec,
    Problem,
    placeholders,
    read_content,
    yaml_error_line,
    yaml_error_message,
)
from .contract import LANGUAGES
from .language import LanguageIdentifier
from .text import fold, normalize

#: Similarity of two examples' character sequences at which they count as the same message.
NEAR_DUPLICATE: Final = 0.92
#: Cosine similarity of character trigrams that makes a pair worth comparing character by character.
CANDIDATE: Final = 0.75
#: The smallest number of examples per language an intent should have.
MINIMUM_EXAMPLES: Final = {"fi": 15, "sv": 5, "en": 5}
_LANGUAGE_NAMES: Final = {"fi": "Finnish", "sv": "Swedish", "en": "English"}


def validate_content(directory: Path, placeholder_keys: Iterable[str]) -> tuple[Content, list[Problem]]:
    """Every problem of a content directory, errors and warnings, in file order."""
    content, problems = read_content(directory)
    known_facts = set(placeholder_keys)
    problems.extend(_check_required_actions(content, directory))
    for intent in content.intents.values():
        problems.extend(_check_intent(intent, content, known_facts))
    if content.intents:
        identifier = LanguageIdentifier.train(text for text, _ in content.examples())
        problems.extend(_check_languages(content, identifier))
        problems.extend(_check_duplicates(content))
    problems.sort(key=lambda p: (p.path, p.line, p.message))
    return content, problems


#: Values the bot fills in phrases itself, besides the county's facts.
PHRASE_VALUES: Final = frozenset(
    {"days", "what", "max", "count", "name", "position", "minutes", "code", "when", "wait", "team", "hours", "date"}
)


def validate_phrases(path: Path, placeholder_keys: Iterable[str]) -> list[Problem]:
    """Problems of the bot's phrases file (``data/messages.yml``): YAML, languages, placeholders."""
    import yaml

    name = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(name, 0, f"cannot read: {exc}")]
    loader: yaml.SafeLoader | None = None
    try:
        # The reader refuses control characters (a NUL byte) already when the loader is made.
        loader = yaml.SafeLoader(source)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return [Problem(name, mark.line + 1 if mark else 1, f"YAML error: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return [Problem(name, yaml_error_line(exc, source), f"YAML error: {yaml_error_message(exc)}")]
    except Exception as exc:
        # Impossible scalars (`2024-13-45`, `!!int x`) raise plain ValueError and the like; deep nesting RecursionError.
        return [Problem(name, 1, f"YAML error: cannot read a value ({type(exc).__name__}: {exc})")]
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        return [Problem(name, 1, "expected a mapping of phrase keys to fi/sv/en texts")]
    known = set(placeholder_keys) | PHRASE_VALUES
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    problems: list[Problem] = []
    for key, texts in data.items():
        line = lines.get(str(key), 1)
        if not isinstance(key, str):
            problems.append(
                Problem(name, line, f"phrase key {key!r} is not text: quote it (YAML reads yes/no as true/false)")
            )
            continue
        if not isinstance(texts, dict):
            problems.append(Problem(name, line, f"phrase '{key}' must map fi/sv/en to text"))
            continue
        for language in LANGUAGES:
            if not isinstance(texts.get(language), str) or not texts[language].strip():
                problems.append(Problem(name, line, f"phrase '{key}' has no {_LANGUAGE_NAMES[language]} text"))
        for language, text in texts.items():
            for placeholder in placeholders(str(text)):
                if placeholder not in known:
                    problems.append(
                        Problem(
                            name, line, f"phrase '{key}' ({language}) refers to {{{placeholder}}}, which is not known"
                        )
                    )
    return problems


def _check_required_actions(content: Content, directory: Path) -> list[Problem]:
    actions = {intent.action for intent in content.intents.values()}
    return [
        Problem(str(directory), 0, f"no intent has action '{action}'; the bot needs one")
        for action in ("crisis", "handoff", "fallback")
        if content.intents and action not in actions
    ]


def _check_intent(intent: IntentSpec, content: Content, known_facts: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if intent.action == "answer":
        for language in LANGUAGES:
            if language not in intent.answer:
                problems.append(
                    Problem(
                        intent.path, intent.line, f"intent '{intent.name}' has no {_LANGUAGE_NAMES[language]} answer"
                    )
                )
    if intent.action in ("answer", "crisis"):
        for language in LANGUAGES:
            if language not in intent.title:
                problems.append(
                    Problem(
                        intent.path,
                        intent.line,
                        f"intent '{intent.name}' has no {_LANGUAGE_NAMES[language]} title",
                        "warning",
                    )
                )
    for answer_language, text in intent.answer.items():
        line = intent.answer_lines.get(answer_language, intent.line)
        for key in placeholders(text):
            if key not in known_facts:
                problems.append(
                    Problem(
                        intent.path,
                        line,
                        f"intent '{intent.name}': answer ({answer_language}) refers to {{{key}}}, "
                        "which is not a key under county: in config.yml",
                    )
                )
    for related in intent.related:
        if related not in content.intents:
            problems.append(
                Problem(intent.path, intent.line, f"intent '{intent.name}': related intent '{related}' does not exist")
            )
    return problems


def _check_languages(content: Content, identifier: LanguageIdentifier) -> list[Problem]:
    problems: list[Problem] = []
    for intent in content.intents.values():
        counts: Counter[str] = Counter(identifier.detect(e.text).language for e in intent.examples)
        for language in LANGUAGES:
            if counts[language] == 0:
                problems.append(
                    Problem(
                        intent.path, intent.line, f"intent '{intent.name}' has no {_LANGUAGE_NAMES[language]} examples"
                    )
                )
            elif counts[language] < MINIMUM_EXAMPLES[language]:
                problems.append(
                    Problem(
                        intent.path,
                        intent.line,
                        f"intent '{intent.name}' has only {counts[language]} {_LANGUAGE_NAMES[language]} "
                        f"examples; write at least {MINIMUM_EXAMPLES[language]}",
                        "warning",
                    )
                )
    return problems


def _check_duplicates(content: Content) -> list[Problem]:
    problems: list[Problem] = []
    examples = [(e, intent) for intent in content.intents.values() for e in intent.examples]
    seen: dict[str, tuple[object, IntentSpec]] = {}
    for example, intent in examples:
        key = fold(normalize(example.text))
        if key in seen:
            first, first_intent = seen[key]
            where = f"{first.path}:{first.line}"  # type: ignore[attr-defined]
            if first_intent.name == intent.name:
                problems.append(
                    Problem(
                        example.path,
                        example.line,
                        f"duplicate example in '{intent.name}' (first at {where})",
                        "warning",
                    )
                )
            else:
                problems.append(
                    Problem(
                        example.path,
                        example.line,
                        f"the same example is in '{intent.name}' and '{first_intent.name}' ({where})",
                    )
                )
        else:
            seen[key] = (example, intent)
    problems.extend(_near_duplicates(examples))
    return problems


def _near_duplicates(examples: list[tuple[Example, IntentSpec]]) -> list[Problem]:
    """Pairs of examples in different intents that are nearly the same text."""
    if len(examples) < 2:
        return []  # nothing to compare (and the vectorizer refuses an empty list)
    texts = [fold(normalize(e.text)) for e, _ in examples]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), use_idf=False, dtype=np.float32)
    matrix = vectorizer.fit_transform(texts)
    similarity = (matrix @ matrix.T).tocoo()
    problems: list[Problem] = []
    reported: dict[int, set[int]] = defaultdict(set)
    for i, j, value in zip(similarity.row, similarity.col, similarity.data, strict=True):
        if i >= j or value < CANDIDATE or texts[i] == texts[j]:
            continue
        (a, intent_a), (b, intent_b) = examples[i], examples[j]
        if intent_a.name == intent_b.name or j in reported[i]:
            continue
        # Trigram vectors ignore repetition ("moi" and "moi moi" point the same way),
        # so a candidate must also be nearly the same character sequence.
        if SequenceMatcher(None, texts[i], texts[j]).ratio() < NEAR_DUPLICATE:
            continue
        reported[i].add(j)
        problems.append(
            Problem(
                b.path,
                b.line,
                f"example of '{intent_b.name}' is nearly the same as one of '{intent_a.name}' "
                f"({a.path}:{a.line}, similarity {value:.2f})",
            )
        )
    return problems
