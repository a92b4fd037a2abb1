"""Rate limits kept in memory only: nothing about a client's address is ever stored or logged."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Allows ``burst`` events at once and ``rate`` events per second on average."""

    rate: float
    burst: int
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.burst)

    def take(self, now: float | None = None) -> bool:
        """Use one token if there is one."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Buckets:
    """A token bucket per key (a conversation), forgetting the buckets that have filled up again.

    A full bucket is exactly what a new one would be, so forgetting it changes no decision; it
    keeps the memory to the conversations active in the last minutes, not all since the start.
    """

    def __init__(self, rate: float, burst: int, sweep_every: float = 60.0) -> None:
        self.rate = rate
        self.burst = burst
        self.sweep_every = sweep_every
        self._buckets: dict[str, TokenBucket] = {}
        self._swept: float | None = None

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float | None = None) -> bool:
        """Use one of ``key``'s tokens if it has one."""
        now = time.monotonic() if now is None else now
        if self._swept is None:
            self._swept = now
        elif now - self._swept >= self.sweep_every:
            self.sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, updated=now)
        return bucket.take(now)

    def sweep(self, now: float | None = None) -> None:
        """Forget every bucket that is full by ``now``."""
        now = time.monotonic() if now is None else now
        self._swept = now
        full = [key for key, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


class ConnectionCounter:
    """Open connections per client address, to refuse a flood of sockets from one place."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: defaultdict[str, int] = defaultdict(int)

    def acquire(self, address: str) -> bool:
        """Count a new connection, unless the address already has too many."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        """Forget one connection of the address."""
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]
