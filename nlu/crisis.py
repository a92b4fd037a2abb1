"""Curated crisis patterns that flag danger whatever the intent classifier thinks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Final

import yaml

from .errors import ContentError
from .memo import remember
from .text import fold, normalize

PATTERNS_FILE: Final = Path(__file__).parent / "resources" / "crisis_patterns.yml"
#: Crisis patterns scan this much of a message; a longer text is cut, never skipped.
MAX_SCANNED_CHARS: Final = 100_000


@dataclass(frozen=True, slots=True)
class CrisisPattern:
    """One curated pattern: an id for reports and tests, a regex over folded text, its strength.

    A weak pattern is a word usually about a crisis that also appears in questions
    about a past event or a subject; guards can cancel it, never a strong one.
    """

    id: str
    regex: re.Pattern[str]
    strong: bool = True
    #: When this matches the message, the pattern does not count (an exception of its own).
    unless: re.Pattern[str] | None = None
    #: Literals one of which every match contains, and whether each starts a word; None: unknown.
    needs: frozenset[tuple[str, bool]] | None = field(default=None, compare=False)


Requirement = frozenset[tuple[str, bool]]


def required_literals(pattern: str) -> Requirement | None:
    r"""Literals of which every match of a regex must contain at least one.

    Read from Python's own parse of the regex, so the crisis detector can skip a
    pattern with one dictionary lookup per word instead of scanning the text. A
    literal right after ``\b`` is marked as starting a word. None means no literal
    is certain (for example ``(a|\w+)``): that pattern always runs.
    """
    return _requirements(list(sre_parse.parse(pattern)), anchored_start=False)


def _requirements(items: list[tuple[object, object]], *, anchored_start: bool) -> Requirement | None:
    candidates: list[Requirement] = []
    run: list[str] = []
    run_anchored = False
    anchored_next = anchored_start

    def flush() -> None:
        if len(run) >= 2:
            literal = "".join(run)
            candidates.append(frozenset({(literal, run_anchored and " " not in literal)}))
        run.clear()

    for op, argument in items:
        if op is sre.LITERAL:
            character = chr(argument)  # type: ignore[arg-type]
            if not run:
                run_anchored = anchored_next and character.isalnum()
            run.append(character)
            anchored_next = False
            continue
        flush()
        if op is sre.AT:
            anchored_next = argument is sre.AT_BOUNDARY
            continue
        if _is_space(op, argument):
            # After whitespace a word begins (the folded text has single spaces between words).
            anchored_next = True
            continue
        requirement: Requirement | None = None
        if op is sre.SUBPATTERN:
            requirement = _requirements(list(argument[3]), anchored_start=anchored_next)  # type: ignore[index]
        elif op is sre.BRANCH:
            branches = [_requirements(list(b), anchored_start=anchored_next) for b in argument[1]]  # type: ignore[index]
            if all(b is not None for b in branches):
                requirement = frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and argument[0] >= 1:  # type: ignore[index]
            requirement = _requirements(list(argument[2]), anchored_start=anchored_next)  # type: ignore[index]
        anchored_next = False
        if requirement:
            candidates.append(requirement)
    flush()
    if not candidates:
        return None
    # Prefer literals that start words (one dictionary lookup per word), then longer ones.
    return max(
        candidates,
        key=lambda r: (all(starts for _, starts in r), min(len(literal) for literal, _ in r) >= 3, -len(r)),
    )


def _is_space(op: object, argument: Any) -> bool:
    r"""Whether a regex item is whitespace (``\s``, ``\s+``, a space), which a word follows."""
    if op is sre.LITERAL and argument == 32:
        return True
    if op is sre.IN:
        return bool(argument == [(sre.CATEGORY, sre.CATEGORY_SPACE)])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, _, item = argument
        return bool(low >= 1 and len(item) == 1 and _is_space(*item[0]))
    return False


#: Words whose candidate patterns are remembered; the memory is emptied when it is full.
WORD_CACHE_LIMIT: Final = 100_000
_NO_CANDIDATES: Final[frozenset[int]] = frozenset()


class CrisisDetector:
    """Matches every pattern of every language against a message.

    All languages are always checked, so a misdetected language can never hide a
    crisis. Patterns are written over normalised, folded text (lower case, ä→a, ö→o,
    å→a, punctuation as spaces), which lets one pattern cover spellings with and
    without the Nordic letters.
    """

    def __init__(self, patterns: list[CrisisPattern], guards: list[re.Pattern[str]] | None = None) -> None:
        self.patterns = patterns
        self.guards = guards or []
        self._always: list[int] = []
        self._word_starts: dict[str, list[int]] = {}
        self._substrings: list[tuple[str, int]] = []
        for number, pattern in enumerate(patterns):
            needs = required_literals(pattern.regex.pattern)
            if needs is None:
                self._always.append(number)
                continue
            for literal, starts_word in needs:
                if starts_word:
                    self._word_starts.setdefault(literal, []).append(number)
                else:
                    self._substrings.append((literal, number))
        self._start_lengths = sorted({len(literal) for literal in self._word_starts})
        # Literals that may start anywhere: one scan with a lookahead finds, at each position,
        # the longest literal starting there; a literal also stands for every literal that is
        # its prefix (they start at the same place), so no pattern is ever missed.
        inner: dict[str, set[int]] = {}
        for literal, number in self._substrings:
            inner.setdefault(literal, set()).add(number)
        self._inner_patterns = {
            literal: frozenset().union(*(numbers for other, numbers in inner.items() if literal.startswith(other)))
            for literal in inner
        }
        alternatives = "|".join(re.escape(literal) for literal in sorted(inner, key=len, reverse=True))
        self._inner_scan = re.compile(f"(?=({alternatives}))") if inner else None
        # Folded text is words and single spaces. With no literal holding a space, each literal
        # lies inside one word, so the candidates of a text are the union of its words' own,
        # which are worked out once per word (words repeat from message to message).
        literals = [*self._word_starts, *inner]
        self._per_word = not any(ch.isspace() for literal in literals for ch in literal)
        self._word_candidates: dict[str, frozenset[int]] = {}

    @classmethod
    def from_file(cls, path: Path = PATTERNS_FILE) -> CrisisDetector:
        """Load and compile the curated patterns.

        Raises:
            ContentError: when the file is unreadable or a pattern does not compile.

        """
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ContentError(f"cannot read crisis patterns: {exc}", path=str(path)) from exc
        if not isinstance(data, dict):
            raise ContentError("expected 'patterns' and 'guards'", path=str(path))
        patterns: list[CrisisPattern] = []
        for entry in data.get("patterns") or []:
            try:
                strength = entry.get("strength", "strong")
                if strength not in ("strong", "weak"):
                    raise ValueError(f"strength must be strong or weak, not {strength!r}")
                unless = re.compile(entry["unless"]) if entry.get("unless") else None
                patterns.append(
                    CrisisPattern(str(entry["id"]), re.compile(entry["regex"]), strength == "strong", unless)
                )
            except (AttributeError, KeyError, TypeError, ValueError, re.error) as exc:
                raise ContentError(f"bad crisis pattern {entry!r}: {exc}", path=str(path)) from exc
        guards: list[re.Pattern[str]] = []
        for guard in data.get("guards") or []:
            try:
                guards.append(re.compile(guard))
            except (TypeError, re.error) as exc:
                raise ContentError(f"bad crisis guard {guard!r}: {exc}", path=str(path)) from exc
        return cls(patterns, guards)

    def _candidates(self, folded: str) -> list[int]:
        """Patterns whose required literals occur in the text; only these can match."""
        if not self._per_word:
            return self._candidates_in(folded)
        chosen = set(self._always)
        cache = self._word_candidates
        for word in set(folded.split()):
            numbers = cache.get(word)
            if numbers is None:
                found = frozenset(self._candidates_in(f" {word} ")).difference(self._always)
                numbers = remember(cache, word, found or _NO_CANDIDATES, WORD_CACHE_LIMIT)
            chosen |= numbers
        return sorted(chosen)

    def _candidates_in(self, folded: str) -> list[int]:
        """:meth:`_candidates` worked out on the whole text at once."""
        chosen = set(self._always)
        starts = self._word_starts
        lengths = self._start_lengths
        for word in set(folded.split()):
            for length in lengths:
                if length > len(word):
                    break
                numbers = starts.get(word[:length])
                if numbers:
                    chosen.update(numbers)
        if self._inner_scan is not None:
            for match in self._inner_scan.finditer(folded):
                chosen.update(self._inner_patterns[match.group(1)])
        return sorted(chosen)

    def scan(self, text: str, *, normalized: str | None = None) -> CrisisSignal:
        """The strong and weak patterns found in a message; weak ones are dropped when a guard matches.

        ``normalized`` is the message already passed through :func:`~nlu.text.normalize`.
        """
        if normalized is None:
            normalized = normalize(text[:MAX_SCANNED_CHARS])
        folded = f" {fold(normalized)} "
        patterns = self.patterns
        found = [
            pattern
            for pattern in (patterns[i] for i in self._candidates(folded))
            if pattern.regex.search(folded) and not (pattern.unless and pattern.unless.search(folded))
        ]
        strong = tuple(p.id for p in found if p.strong)
        weak = tuple(p.id for p in found if not p.strong)
        if weak and any(g.search(folded) for g in self.guards):
            weak = ()
        return CrisisSignal(strong, weak)

    def matches(self, text: str) -> tuple[str, ...]:
        """Ids of the patterns found in the message (weak ones unless guarded), strong first."""
        return self.scan(text).reasons


@dataclass(frozen=True, slots=True)
class CrisisSignal:
    """What the curated patterns found: strong matches decide, weak ones are evidence."""

    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every matched pattern id, strong first."""
        return self.strong + self.weak


@lru_cache(maxsize=1)
def default_detector() -> CrisisDetector:
    """The detector with Neuvo's curated patterns, loaded once per process."""
    return CrisisDetector.from_file()
