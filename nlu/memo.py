"""Per-word memories of the hot path, bounded without bookkeeping on every hit."""

from __future__ import annotations

from typing import Final, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Entries a per-word memory holds before it starts afresh.
WORD_CACHE_LIMIT: Final = 200_000


def remember(cache: dict[K, V], key: K, value: V, limit: int = WORD_CACHE_LIMIT) -> V:
    """Store ``value`` under ``key`` and return it; a full memory is emptied first.

    Words follow Zipf's law: the frequent ones are back within a few messages after a reset, so
    emptying costs less than the least-recently-used order would on every hit.
    """
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value
