"""The outbox sends each recipient's items in order, retries passing failures and confirms what went out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.handlers.outbox import Failure, Item, Outbox, Verdict


class Unreachable(Exception):
    """The person blocked the bot."""


class Malformed(Exception):
    """The platform refuses this one request."""


class Flaky(Exception):
    """A passing failure (a dropped connection, a 5xx, a 429)."""

    def __init__(self, wait: float | None = None) -> None:
        super().__init__()
        self.wait = wait


def judge(error: BaseException) -> Failure:
    if isinstance(error, Unreachable):
        return Failure(Verdict.ABANDON)
    if isinstance(error, Malformed):
        return Failure(Verdict.DROP)
    assert isinstance(error, Flaky)
    return Failure(Verdict.RETRY, error.wait)


class Platform:
    """Records what was sent; fails the sends it was told to."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failures: dict[str, list[BaseException]] = {}
        self.confirmed: list[tuple[str, int]] = []

    def item(self, text: str, seq: int | None = None, conversation: str = "c1") -> Item:
        async def send() -> None:
            pending = self.failures.get(text)
            if pending:
                raise pending.pop(0)
            self.sent.append(text)

        return Item(send, conversation_id=conversation if seq else None, seq=seq)

    async def confirm(self, conversation: str, seq: int) -> None:
        self.confirmed.append((conversation, seq))


def outbox(platform: Platform) -> Outbox:
    return Outbox(judge, platform.confirm, first_backoff=0.01, max_backoff=0.05)


async def settle(box: Outbox) -> None:
    assert await box.drain(5.0)


async def test_items_go_out_in_order_and_the_last_stored_message_is_confirmed() -> None:
    platform = Platform()
    box = outbox(platform)
    box.put("chat", [platform.item("a", 1), platform.item("b", 2)])
    box.put("chat", [platform.item("c", 3)])
    await settle(box)
    assert platform.sent == ["a", "b", "c"]
    assert platform.confirmed[-1] == ("c1", 3)


async def test_a_passing_failure_is_retried_and_later_items_wait_for_it() -> None:
    platform = Platform()
    platform.failures["a"] = [Flaky(), Flaky(wait=0.05)]
    box = outbox(platform)
    started = asyncio.get_running_loop().time()
    box.put("chat", [platform.item("a", 1), platform.item("b", 2)])
    await settle(box)
    assert platform.sent == ["a", "b"]
    assert asyncio.get_running_loop().time() - started >= 0.05  # the platform's wait was kept


async def test_a_refused_item_is_dropped_and_the_next_one_still_goes() -> None:
    platform = Platform()
    platform.failures["a"] = [Malformed()]
    box = outbox(platform)
    box.put("chat", [platform.item("a", 1), platform.item("b", 2)])
    await settle(box)
    assert platform.sent == ["b"]


async def test_an_unreachable_recipient_loses_its_queue_but_others_are_served() -> None:
    platform = Platform()
    platform.failures["a"] = [Unreachable()]
    box = outbox(platform)
    box.put("blocked", [platform.item("a", 1), platform.item("b", 2)])
    box.put("other", [platform.item("x", 1, conversation="c2")])
    await settle(box)
    assert platform.sent == ["x"]
    assert ("c1", 2) not in platform.confirmed  # never confirmed: nothing went out


async def test_closing_stops_retrying_and_leaves_the_rest_unconfirmed() -> None:
    platform = Platform()
    platform.failures["a"] = [Flaky() for _ in range(1000)]
    box = outbox(platform)
    box.put("chat", [platform.item("a", 1)])
    await box.close(timeout=0.1)
    assert platform.sent == []
    assert platform.confirmed == []
    box.put("chat", [platform.item("b", 2)])  # a closed outbox takes nothing more
    assert box.pending() == 0


async def test_one_recipients_retries_do_not_hold_up_another() -> None:
    platform = Platform()
    platform.failures["slow"] = [Flaky(wait=0.2)]
    box = outbox(platform)
    box.put("one", [platform.item("slow", 1)])
    box.put("two", [platform.item("fast", 1, conversation="c2")])
    await wait_until(lambda: "fast" in platform.sent)
    assert platform.sent == ["fast"]
    await settle(box)
    assert platform.sent == ["fast", "slow"]


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    waiter: Awaitable[None] = poll()
    await asyncio.wait_for(waiter, timeout)
