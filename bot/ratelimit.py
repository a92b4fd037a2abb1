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
