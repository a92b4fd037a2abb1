"""Load generator: many widget conversations over WebSocket at a fixed total message rate.

Run as its own process, so the server keeps the other core. Every conversation is
opened first; then each sends one message every ``conversations / rate`` seconds
(open loop, random phase) for ``--seconds``. The round trip is from sending a
message to its ``ack``, which the server sends only after storing the message and
delivering the bot's replies. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


@dataclass
class Tally:
    """What all conversations saw."""

    round_trips: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duplicate_acks: int = 0
    sent: int = 0
    acked: int = 0


@dataclass
class Plan:
    """The load: where, how many, how fast, how long."""

    url: str
    origin: str
    interval: float
    texts: list[str]
    start: asyncio.Event
    opened: asyncio.Semaphore
    seconds: float
    hold: float


async def conversation(session: aiohttp.ClientSession, plan: Plan, number: int, tally: Tally) -> None:
    """One widget: hello, wait for the common start, send on schedule, count the acks."""
    async with session.ws_connect(plan.url, headers={"Origin": plan.origin}, heartbeat=None) as socket:
        await socket.send_json({"type": "hello", "lang": "fi"})
        while (await socket.receive_json())["type"] != "welcome":
            pass
        plan.opened.release()
        await plan.start.wait()
        sent: dict[str, float] = {}
        acked: set[str] = set()

        async def read() -> None:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                data = json.loads(message.data)
                frame = data[-1] if isinstance(data, list) else data  # a turn ends with its ack
                if frame.get("type") == "ack":
                    if frame["id"] in acked:
                        tally.duplicate_acks += 1
                    else:
                        acked.add(frame["id"])
                        tally.round_trips.append(time.perf_counter() - sent[frame["id"]])
                elif frame.get("type") == "error":
                    tally.errors.append(str(frame.get("code")))

        reader = asyncio.create_task(read())
        rng = random.Random(number)
        began = time.perf_counter()
        next_at = began + rng.random() * plan.interval
        counter = 0
        while next_at < began + plan.seconds:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            client_id = f"n{number}m{counter}"
            counter += 1
            sent[client_id] = time.perf_counter()
            await socket.send_json({"type": "message", "id": client_id, "text": rng.choice(plan.texts)})
            next_at += plan.interval
        deadline = time.perf_counter() + 15
        while len(acked) < len(sent) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        tally.sent += len(sent)
        tally.acked += len(acked)
        await asyncio.sleep(plan.hold)
        reader.cancel()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


async def main() -> None:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--rate", type=float, default=1000.0, help="messages per second in total")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--texts", type=Path, required=True, help="JSON file with a list of messages")
    parser.add_argument("--hold", type=float, default=0.0, help="keep the sockets open this long at the end")
    args = parser.parse_args()
    plan = Plan(
        url=args.url,
        origin=args.origin,
        interval=args.conversations / args.rate,
        texts=json.loads(args.texts.read_text(encoding="utf-8")),
        start=asyncio.Event(),
        opened=asyncio.Semaphore(0),
        seconds=args.seconds,
        hold=args.hold,
    )
    tally = Tally()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = []
        opening = time.perf_counter()
        for number in range(args.conversations):
            tasks.append(asyncio.create_task(conversation(session, plan, number, tally)))
            if number % 50 == 49:  # open in waves of 50 so handshakes do not time out
                for _ in range(50):
                    await plan.opened.acquire()
        for _ in range(args.conversations % 50):
            await plan.opened.acquire()
        open_seconds = time.perf_counter() - opening
        print(json.dumps({"event": "all_open"}), flush=True)
        began = time.perf_counter()
        plan.start.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began - args.hold
    print(
        json.dumps(
            {
                "conversations": args.conversations,
                "rate_target": args.rate,
                "seconds": round(elapsed, 2),
                "open_seconds": round(open_seconds, 2),
                "sent": tally.sent,
                "acked": tally.acked,
                "throughput": round(tally.acked / min(elapsed, args.seconds), 1),
                "p50_ms": round(percentile(tally.round_trips, 0.50), 2),
                "p90_ms": round(percentile(tally.round_trips, 0.90), 2),
                "p99_ms": round(percentile(tally.round_trips, 0.99), 2),
                "max_ms": round(percentile(tally.round_trips, 1.0), 2),
                "errors": len(tally.errors),
                "error_codes": sorted(set(tally.errors)),
                "duplicate_acks": tally.duplicate_acks,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
