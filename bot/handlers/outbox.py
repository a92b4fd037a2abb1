"""Ordered, retried delivery for channels that push to a platform's API (Telegram).

A chat platform's API fails now and then: it rate-limits (HTTP 429 with a wait), drops
connections, or answers 5xx while it restarts. A citizen must still get every reply, once, in
order. So each recipient gets one queue and one worker: the worker sends the oldest item, waits
and retries on a passing failure (as long as the platform asks, or with growing back-off), and
only then moves on. Failures that no retry can mend (the person blocked the bot, the request is
malformed) drop the item with a log line. When a batch of a conversation's stored messages is
through, ``on_sent`` is told the last one, so a restart resends only what was never confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

logger = logging.getLogger(__name__)

#: The longest pause between two tries of the same item, whatever the platform said.
MAX_BACKOFF_SECONDS: Final = 60.0
FIRST_BACKOFF_SECONDS: Final = 0.5


class Verdict(Enum):
    """What to do after a failed send."""

    RETRY = "retry"  #: a passing failure: wait, try the same item again
    DROP = "drop"  #: this item can never go through: log it, go on with the next
    ABANDON = "abandon"  #: nothing more can reach this recipient (they blocked the bot): drop the queue


@dataclass(frozen=True, slots=True)
class Failure:
    """How a channel judges one error from its platform."""

    verdict: Verdict
    #: How long the platform asked us to wait (HTTP 429 ``retry_after``), if it said.
    wait_seconds: float | None = None


@dataclass(slots=True)
class Item:
    """One thing to send to a recipient, in order."""

    send: Callable[[], Awaitable[Any]]
    #: The conversation and message number it belongs to, for ``on_sent`` (None: not a stored message).
    conversation_id: str | None = None
    seq: int | None = None
    #: What the kind of item is, for logs only (never its text).
    kind: str = "message"


@dataclass
class _Queue:
    items: asyncio.Queue[Item] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None


class Outbox:
    """Per-recipient ordered queues with retry, one worker task per busy recipient."""

    def __init__(
        self,
        judge: Callable[[BaseException], Failure],
        on_sent: Callable[[str, int], Awaitable[None]],
        *,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self.judge = judge
        self.on_sent = on_sent
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._queues: dict[str, _Queue] = {}
        self._closing = False

    def put(self, recipient: str, items: list[Item]) -> None:
        """Queue items for a recipient after everything already queued for them."""
        if self._closing or not items:
            return
        queue = self._queues.get(recipient)
        if queue is None:
            queue = self._queues[recipient] = _Queue()
        for item in items:
            queue.items.put_nowait(item)
        if queue.worker is None or queue.worker.done():
            queue.worker = asyncio.create_task(self._work(recipient, queue), name="outbox-worker")

    def drop(self, recipient: str) -> None:
        """Forget everything queued for a recipient (their data was erased)."""
        queue = self._queues.pop(recipient, None)
        if queue is not None and queue.worker is not None:
            queue.worker.cancel()

    def pending(self) -> int:
        """Items waiting in all queues (for tests and readiness)."""
        return sum(queue.items.qsize() for queue in self._queues.values())

    async def drain(self, timeout: float) -> bool:
        """Wait until every queue is empty (or the time is up); True when it is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(q.worker is not None and not q.worker.done() for q in self._queues.values()):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def close(self, timeout: float = 5.0) -> None:
        """Send what can be sent within ``timeout``, then stop; what is left is resent after a restart."""
        self._closing = True
        await self.drain(timeout)
        workers = [q.worker for q in self._queues.values() if q.worker is not None and not q.worker.done()]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._queues.clear()

    async def _work(self, recipient: str, queue: _Queue) -> None:
        """Send a recipient's items in order; after a batch, confirm the last stored message of each conversation."""
        while not queue.items.empty():
            confirmed: dict[str, int] = {}
            while not queue.items.empty():
                item = queue.items.get_nowait()
                if not await self._send(item):
                    if self._queues.get(recipient) is queue:
                        self._queues.pop(recipient, None)
                    return
                if item.conversation_id is not None and item.seq is not None:
                    confirmed[item.conversation_id] = max(item.seq, confirmed.get(item.conversation_id, 0))
            for conversation_id, seq in confirmed.items():
                try:
                    await self.on_sent(conversation_id, seq)
                except Exception:
                    # The messages did go out; at worst a restart sends them once more.
                    logger.exception("delivery mark not stored", extra={"conversation": conversation_id})
        if self._queues.get(recipient) is queue and queue.items.empty():
            self._queues.pop(recipient, None)

    async def _send(self, item: Item) -> bool:
        """Send one item, retrying passing failures; False when the recipient is out of reach for good."""
        backoff = self.first_backoff
        attempt = 0
        while True:
            attempt += 1
            try:
                await item.send()
                return True
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failure = self.judge(error)
                extra = {"conversation": item.conversation_id, "kind": item.kind, "attempt": attempt}
                if failure.verdict is Verdict.DROP:
                    logger.warning("send refused for good: %s", type(error).__name__, extra=extra)
                    return True
                if failure.verdict is Verdict.ABANDON:
                    logger.warning("recipient unreachable: %s", type(error).__name__, extra=extra)
                    return False
                if failure.wait_seconds is not None:
                    wait = min(failure.wait_seconds, self.max_backoff)
                else:
                    wait = backoff * (0.5 + random.random() / 2)  # jitter: not every chat retries at once
                    backoff = min(backoff * 2, self.max_backoff)
                logger.info(
                    "send failed, retrying: %s",
                    type(error).__name__,
                    extra=extra | {"wait_s": round(wait, 2)},
                )
                await asyncio.sleep(wait)
