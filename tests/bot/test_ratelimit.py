"""Flood limits per conversation: forgetting refilled buckets keeps memory small and changes no decision."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.ratelimit import Buckets, TokenBucket

EVENTS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.floats(min_value=0.0, max_value=30.0)), max_size=80
)


@given(EVENTS, st.floats(min_value=0.05, max_value=2.0), st.integers(min_value=1, max_value=5))
def test_forgetting_full_buckets_decides_exactly_as_keeping_every_bucket(
    events: list[tuple[str, float]], rate: float, burst: int
) -> None:
    buckets = Buckets(rate, burst, sweep_every=5.0)
    kept: dict[str, TokenBucket] = {}
    now = 1000.0
    for key, pause in events:
        now += pause
        bucket = kept.setdefault(key, TokenBucket(rate, burst, updated=now))
        assert buckets.take(key, now) == bucket.take(now)


def test_a_conversation_quiet_long_enough_to_refill_is_forgotten() -> None:
    buckets = Buckets(rate=1.0, burst=3, sweep_every=60.0)
    assert all(buckets.take(f"conversation-{n}", now=0.0) for n in range(100))
    assert len(buckets) == 100
    taken = [buckets.take("busy", now=59.9) for _ in range(5)]
    assert taken == [True, True, True, False, False]  # "busy" used its burst: it is still limited a moment later
    assert buckets.take("another", now=60.0)  # a minute on: the refilled ones are swept
    assert len(buckets) == 2
    assert not buckets.take("busy", now=60.0)
