"""Hypothesis strategies for files an editor might save: YAML's tricky corners, stray bytes, anything at all.

The readers of intents, phrases and canned responses each promise a problem naming the file, never a
traceback; their property tests draw from the same pieces, plus the keys of their own kind of file.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

#: Indentation, flow syntax, anchors and merges, explicit tags, impossible scalars, control characters.
YAML_TRICKS = (
    "\n",
    "  ",
    "    ",
    "- ",
    "x",
    "{",
    "}",
    "[",
    "]",
    ", ",
    ": ",
    '"',
    "'",
    "&a ",
    "*a",
    "<<: ",
    "!!int ",
    "!!float ",
    "!!timestamp ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "2024-13-45",
    "? ",
    "yes",
    "|",
    ">",
    "#",
    "---",
    "~",
    "\t",
    "ä",
    "å",
    "é",
    "\x00",
    "\x85",
    "\ufeff",
)


def yaml_like(*keys: str) -> SearchStrategy[str]:
    """Text made of YAML's tricky pieces and the keys one kind of file uses."""
    return st.lists(st.sampled_from([*keys, *YAML_TRICKS]), max_size=40).map("".join)


def any_source(*keys: str) -> SearchStrategy[str | bytes]:
    """Any text, YAML-like text, or bytes that need not be UTF-8."""
    return st.one_of(st.text(), yaml_like(*keys), st.binary(max_size=200))


def write_source(path: Path, source: str | bytes) -> None:
    """Save a drawn source as an editor would (text as UTF-8)."""
    if isinstance(source, str):
        path.write_text(source, encoding="utf-8")
    else:
        path.write_bytes(source)
