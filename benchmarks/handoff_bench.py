"""Human handoff targets: a citizen's message reaches the advisor's console in p99 < 100 ms; one owner per claim race.

Two roles in one module. ``run()`` (called by ``benchmarks.run``) starts ``neuvo serve`` on a fresh
SQLite database, the same way the conversation server benchmark does, creates the first admin with
``neuvo user add``, then starts this module again as a separate load process (``--drive``) and reads
its figures. The load process creates the advisors through the admin API, logs them in, holds their
console WebSockets and the citizens' widget WebSockets, and measures:

(a) delivery: every citizen asks for a person and is queued, the advisors claim them (an equal share
    each), then the citizens write at a steady total rate; for each message, the time from the
    citizen's send to the owning advisor's console receiving its ``message`` frame, matched by
    conversation id and a marker in the text;
(b) claim race: rounds of one newly queued citizen, claimed by every advisor at the same moment;
    exactly one claim may succeed, and the conversation must show exactly one owner.

The load process prints one JSON line per phase (so the server's memory and CPU can be read at the
right moments) and the figures last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from .server_bench import ROOT, neuvo_server, rss_mb
from .ws_load import percentile

CITIZENS = 200
ADVISORS = 20
RATE = 100.0
SECONDS = 30.0
ROUNDS = 50
TEAM = "social_advice"
ASK_FOR_HUMAN = "haluan puhua ihmisen kanssa"
#: Server settings for the load: open around the clock, so the figures do not depend on the hour,
#: and room for 21 console logins from one address within a minute.
SERVER_ENV = {
    "NEUVO_HANDOFF__HOURS": "always",
    "NEUVO_CONSOLE__LOGIN_ATTEMPTS_PER_MINUTE": "1000",
}
_MARKER = re.compile(r"#c(\d+)n(\d+)$")


# --- the load process ------------------------------------------------------------------------------
@dataclass
class Advisor:
    """One advisor: their own HTTP session (cookie), CSRF token and console WebSocket."""

    number: int
    name: str
    password: str
    session: aiohttp.ClientSession
    csrf: str = ""
    id: int = 0
    socket: aiohttp.ClientWebSocketResponse | None = None
    #: Ids of entries this console was told are queued, in order.
    queued: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    frames: Counter[str] = field(default_factory=Counter)


@dataclass
class Citizen:
    """One widget: its WebSocket and the acks it waits for."""

    number: int
    socket: aiohttp.ClientWebSocketResponse
    pending: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    round_trips: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    joined: int = 0


@dataclass
class Tally:
    """What the consoles received: for each (citizen, message) marker, when, in which conversation, by whom."""

    arrivals: defaultdict[tuple[int, int], list[tuple[float, str, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sent: dict[tuple[int, int], float] = field(default_factory=dict)


class Load:
    """The whole load: advisors, citizens and the two measurements."""

    def __init__(self, args: argparse.Namespace, admin_password: str) -> None:
        self.base = args.base.rstrip("/")
        self.origin = self.base
        self.args = args
        self.admin_password = admin_password
        self.texts: list[str] = json.loads(Path(args.texts).read_text(encoding="utf-8"))
        self.advisors: list[Advisor] = []
        self.tally = Tally()
        self.readers: list[asyncio.Task[None]] = []
        self.connector = aiohttp.TCPConnector(limit=0)
        #: Console logins answered with something else than 200 (each is tried again, up to 3 times).
        self.failed_logins: Counter[int] = Counter()
        self.login_seconds: list[float] = []
        self.widgets = aiohttp.ClientSession(connector=self.connector)

    # --- console side ------------------------------------------------------------------------------
    def _session(self) -> aiohttp.ClientSession:
        # The console cookie is set for 127.0.0.1, an address: aiohttp keeps such cookies only when unsafe.
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": self.origin})

    async def _login(self, session: aiohttp.ClientSession, name: str, password: str) -> dict[str, Any] | None:
        for _ in range(3):
            began = time.perf_counter()
            async with session.post(f"{self.base}/console/api/login", json={"name": name, "password": password}) as r:
                self.login_seconds.append(time.perf_counter() - began)
                if r.status == 200:
                    return dict(await r.json())
                self.failed_logins[r.status] += 1
        return None

    async def create_advisors(self) -> None:
        """The admin adds the advisors through the console API (the CLI made the admin)."""
        async with self._session() as admin:
            login = await self._login(admin, "bench-admin", self.admin_password)
            assert login is not None
            headers = {"X-CSRF-Token": login["csrf_token"]}
            capacity = -(-self.args.citizens // self.args.advisors)
            for number in range(self.args.advisors):
                password = secrets.token_urlsafe(16)
                body = {
                    "name": f"advisor{number:02d}",
                    "display_name": f"Advisor {number}",
                    "role": "advisor",
                    "teams": [TEAM],
                    "capacity": capacity,
                    "password": password,
                }
                async with admin.post(f"{self.base}/console/api/users", json=body, headers=headers) as r:
                    if r.status != 201:
                        raise RuntimeError(f"creating an advisor failed: {r.status} {await r.text()}")
                self.advisors.append(Advisor(number, body["name"], password, self._session()))

    async def start_shift(self) -> None:
        """The shift starts: every advisor logs in and opens the console at the same time."""

        async def start(advisor: Advisor) -> None:
            login = await self._login(advisor.session, advisor.name, advisor.password)
            if login is None:
                raise RuntimeError(f"{advisor.name} could not log in")
            advisor.csrf, advisor.id = login["csrf_token"], login["advisor"]["id"]
            advisor.socket = await advisor.session.ws_connect(f"{self.base}/console/ws", heartbeat=None)
            hello = await advisor.socket.receive_json()
            assert hello["type"] == "hello", hello
            self.readers.append(asyncio.create_task(self._read_console(advisor)))

        await asyncio.gather(*(start(a) for a in self.advisors))

    async def second_logins(self) -> None:
        """Every advisor logs in on another device at the same time, then logs that session out."""

        async def again(advisor: Advisor) -> None:
            async with self._session() as session:
                login = await self._login(session, advisor.name, advisor.password)
                if login is None:
                    return
                async with session.post(
                    f"{self.base}/console/api/logout", headers={"X-CSRF-Token": login["csrf_token"]}
                ) as r:
                    if r.status != 204:
                        self.failed_logins[r.status] += 1

        await asyncio.gather(*(again(a) for a in self.advisors))

    async def _read_console(self, advisor: Advisor) -> None:
        assert advisor.socket is not None
        async for message in advisor.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            now = time.perf_counter()
            frame = json.loads(message.data)
            kind = frame.get("type", "?")
            advisor.frames[kind] += 1
            if kind == "message" and frame["message"]["sender"] == "citizen":
                marker = _MARKER.search(frame["message"]["text"])
                if marker:
                    key = (int(marker.group(1)), int(marker.group(2)))
                    self.tally.arrivals[key].append((now, frame["conversation"], advisor.number))
            elif kind == "entry" and frame["entry"]["status"] == "queued":
                advisor.queued.put_nowait(frame["entry"]["id"])

    async def _post(self, advisor: Advisor, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        async with advisor.session.post(
            f"{self.base}/console/api{path}", json=body, headers={"X-CSRF-Token": advisor.csrf}
        ) as r:
            return r.status, await r.json() if r.content_type == "application/json" else None

    async def _get(self, advisor: Advisor, path: str) -> Any:
        async with advisor.session.get(f"{self.base}/console/api{path}") as r:
            if r.status != 200:
                raise RuntimeError(f"GET {path}: {r.status}")
            return await r.json()

    # --- citizen side ------------------------------------------------------------------------------
    async def open_citizen(self, number: int) -> Citizen:
        """A widget: hello, welcome, then a reader that resolves acks."""
        socket = await self.widgets.ws_connect(f"{self.base}/ws", headers={"Origin": self.origin}, heartbeat=None)
        await socket.send_json({"type": "hello", "lang": "fi"})
        while (await socket.receive_json())["type"] != "welcome":
            pass
        citizen = Citizen(number, socket)
        self.readers.append(asyncio.create_task(self._read_widget(citizen)))
        return citizen

    async def _read_widget(self, citizen: Citizen) -> None:
        async for message in citizen.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            now = time.perf_counter()
            data = json.loads(message.data)
            for frame in data if isinstance(data, list) else [data]:
                kind = frame.get("type")
                if kind == "ack":
                    future = citizen.pending.pop(frame["id"], None)
                    if future is not None and not future.done():
                        citizen.round_trips.append(now - citizen.sent_at[frame["id"]])
                        future.set_result(frame)
                elif kind == "error":
                    citizen.errors.append(str(frame.get("code")))
                    future = citizen.pending.pop(str(frame.get("id")), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "message" and frame.get("kind") == "advisor_joined":
                    citizen.joined += 1

    async def say(self, citizen: Citizen, client_id: str, text: str) -> asyncio.Future[dict[str, Any]]:
        """Send a message; the future is the ack (or error)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        citizen.pending[client_id] = future
        citizen.sent_at[client_id] = time.perf_counter()
        await citizen.socket.send_json({"type": "message", "id": client_id, "text": text})
        return future

    async def ask_for_person(self, citizen: Citizen) -> None:
        """Type the request for a person; the ack must say the conversation is queued."""
        ack = await asyncio.wait_for(await self.say(citizen, f"c{citizen.number}ask", ASK_FOR_HUMAN), 30)
        if ack.get("status") != "queued":
            raise RuntimeError(f"citizen {citizen.number} was not queued: {ack}")

    # --- (a) delivery to the advisor's console ----------------------------------------------------
    async def delivery(self) -> dict[str, Any]:
        """Queue every citizen, let the advisors claim them, then time each message to the owner's console."""
        citizens: list[Citizen] = []
        began = time.perf_counter()
        for wave in range(0, self.args.citizens, 50):
            numbers = range(wave, min(wave + 50, self.args.citizens))
            citizens += await asyncio.gather(*(self.open_citizen(n) for n in numbers))
        opened = time.perf_counter() - began
        emit({"event": "citizens_open"})
        began = time.perf_counter()
        await asyncio.gather(*(self.ask_for_person(c) for c in citizens))
        queued_seconds = time.perf_counter() - began
        queue = await self._get(self.advisors[0], "/queue")
        waiting = [e["id"] for e in queue["entries"] if e["status"] == "queued"]
        if len(waiting) != self.args.citizens:
            raise RuntimeError(f"{len(waiting)} conversations queued, expected {self.args.citizens}")
        owner: dict[str, int] = {}
        claim_statuses: Counter[int] = Counter()

        async def take(advisor: Advisor, ids: list[str]) -> None:
            for conversation_id in ids:
                status, _ = await self._post(advisor, f"/conversations/{conversation_id}/claim")
                claim_statuses[status] += 1
                if status == 200:
                    owner[conversation_id] = advisor.number

        began = time.perf_counter()
        share = len(self.advisors)
        await asyncio.gather(*(take(a, waiting[a.number :: share]) for a in self.advisors))
        claim_seconds = time.perf_counter() - began
        if claim_statuses[200] != self.args.citizens:
            raise RuntimeError(f"claims: {dict(claim_statuses)}")
        emit({"event": "ready"})

        lags: list[float] = []
        measuring = True

        async def watch_loop() -> None:
            # The load process's own event loop lag: how late a 10 ms sleep wakes up.
            while measuring:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - before - 0.01)

        async def write(citizen: Citizen) -> None:
            rng = random.Random(citizen.number)
            interval = self.args.citizens / self.args.rate
            start = time.perf_counter()
            next_at = start + rng.random() * interval
            counter = 0
            while next_at < start + self.args.seconds:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                key = (citizen.number, counter)
                self.tally.sent[key] = time.perf_counter()
                await self.say(citizen, f"c{citizen.number}n{counter}", f"{rng.choice(self.texts)} #c{key[0]}n{key[1]}")
                counter += 1
                next_at += interval

        async def meanwhile() -> None:
            await asyncio.sleep(self.args.seconds / 2)
            await self.second_logins()

        monitor = asyncio.create_task(watch_loop())
        cpu_before, wall_before = _cpu(), time.perf_counter()
        await asyncio.gather(meanwhile(), *(write(c) for c in citizens))
        sending = time.perf_counter() - wall_before
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline and not all(key in self.tally.arrivals for key in self.tally.sent):
            await asyncio.sleep(0.05)
        while time.perf_counter() < deadline and any(c.pending for c in citizens):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # let late duplicates show
        cpu_used, wall = _cpu() - cpu_before, time.perf_counter() - wall_before
        measuring = False
        await monitor
        emit({"event": "measured"})

        latencies: list[float] = []
        lost = wrong_console = duplicates = 0
        conversation_of: dict[int, set[str]] = defaultdict(set)
        for key, sent in self.tally.sent.items():
            arrivals = self.tally.arrivals.get(key, [])
            for _, conversation_id, _ in arrivals:
                conversation_of[key[0]].add(conversation_id)
            mine = [at for at, conversation_id, who in arrivals if owner.get(conversation_id) == who]
            wrong_console += len(arrivals) - len(mine)
            duplicates += max(len(mine) - 1, 0)
            if mine:
                latencies.append(min(mine) - sent)
            else:
                lost += 1
        mixed = sum(1 for ids in conversation_of.values() if len(ids) != 1)
        round_trips = [rt for c in citizens for rt in c.round_trips[1:]]  # without the request for a person
        closes: Counter[int] = Counter()

        async def close_all(advisor: Advisor) -> None:
            for conversation_id in [c for c, who in owner.items() if who == advisor.number]:
                status, _ = await self._post(
                    advisor, f"/conversations/{conversation_id}/close", {"outcome": "answered"}
                )
                closes[status] += 1

        await asyncio.gather(*(close_all(a) for a in self.advisors))
        for citizen in citizens:
            await citizen.socket.close()
        return {
            "citizens": len(citizens),
            "advisors": len(self.advisors),
            "open_seconds": round(opened, 2),
            "queue_seconds": round(queued_seconds, 2),
            "claim_seconds": round(claim_seconds, 2),
            "sending_seconds": round(sending, 2),
            "sent": len(self.tally.sent),
            "delivered": len(latencies),
            "lost": lost,
            "wrong_console": wrong_console,
            "duplicates": duplicates,
            "citizens_in_two_conversations": mixed,
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(percentile(latencies, 1.0), 2),
            "ack_p50_ms": round(percentile(round_trips, 0.50), 2),
            "ack_p99_ms": round(percentile(round_trips, 0.99), 2),
            "acked": len(round_trips),
            "widget_errors": sorted({e for c in citizens for e in c.errors}),
            "client_cpu_share": round(cpu_used / wall, 3),
            "client_lag_p99_ms": round(percentile(lags, 0.99), 2),
            "client_lag_max_ms": round(percentile(lags, 1.0), 2),
            "closed": dict(closes),
            "failed_logins": dict(self.failed_logins),
            "logins": len(self.login_seconds),
            "login_max_ms": round(percentile(self.login_seconds, 1.0), 1),
            "console_frames": dict(sum((a.frames for a in self.advisors), Counter())),
        }

    # --- (b) the claim race ----------------------------------------------------------------------
    async def race(self) -> dict[str, Any]:
        """Rounds: one citizen queued, every advisor claims at once; exactly one may win."""
        for advisor in self.advisors:  # forget the entries of the delivery phase
            while not advisor.queued.empty():
                advisor.queued.get_nowait()
        rounds = []
        losers: Counter[str] = Counter()
        race_ids: list[str] = []
        for number in range(self.args.rounds):
            citizen = await self.open_citizen(10_000 + number)
            await self.ask_for_person(citizen)
            seen = await asyncio.gather(*(asyncio.wait_for(a.queued.get(), 10) for a in self.advisors))
            if len(set(seen)) != 1:
                raise RuntimeError(f"the consoles saw different queued conversations: {set(seen)}")
            conversation_id = seen[0]
            race_ids.append(conversation_id)
            began = time.perf_counter()
            answers = await asyncio.gather(
                *(self._post(a, f"/conversations/{conversation_id}/claim") for a in self.advisors)
            )
            resolved = time.perf_counter() - began
            winners = [a for a, (status, _) in zip(self.advisors, answers, strict=True) if status == 200]
            for status, body in answers:
                if status != 200:
                    losers[f"{status} {body.get('error') if isinstance(body, dict) else body}"] += 1
            view = await self._get(self.advisors[0], f"/conversations/{conversation_id}")
            holder = (view.get("entry") or {}).get("assigned_to") or {}
            joined = sum(1 for m in view["messages"] if m["kind"] == "advisor_joined")
            one_owner = (
                len(winners) == 1
                and view["conversation"]["status"] == "assigned"
                and holder.get("id") == winners[0].id
                and joined == 1
            )
            await asyncio.sleep(0.05)  # the citizen's copy of "advisor joined"
            rounds.append(
                {
                    "winners": len(winners),
                    "one_owner_in_console": one_owner,
                    "citizen_told_joined": citizen.joined,
                    "ms": resolved * 1000,
                }
            )
            if winners:
                status, _ = await self._post(
                    winners[0], f"/conversations/{conversation_id}/close", {"outcome": "answered"}
                )
                if status != 200:
                    raise RuntimeError(f"closing a raced conversation: {status}")
            await citizen.socket.close()
        times = [r["ms"] / 1000 for r in rounds]
        return {
            "rounds": len(rounds),
            "exactly_one_200": sum(1 for r in rounds if r["winners"] == 1),
            "one_owner_in_console": sum(1 for r in rounds if r["one_owner_in_console"]),
            "citizen_told_once": sum(1 for r in rounds if r["citizen_told_joined"] == 1),
            "losers": dict(losers),
            "resolve_p50_ms": round(percentile(times, 0.5), 1),
            "resolve_max_ms": round(percentile(times, 1.0), 1),
            "conversations": race_ids,
        }

    async def close(self) -> None:
        """Close every socket and session."""
        for advisor in self.advisors:
            if advisor.socket is not None:
                await advisor.socket.close()
            await advisor.session.close()
        for task in self.readers:
            task.cancel()
        await self.widgets.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(data: dict[str, Any]) -> None:
    """One JSON line to the benchmark that started this process."""
    print(json.dumps(data), flush=True)


async def drive(args: argparse.Namespace) -> None:
    """The load process: both measurements, figures on standard output."""
    load = Load(args, sys.stdin.readline().strip())
    try:
        await load.create_advisors()
        await load.start_shift()
        emit({"event": "consoles_open"})
        delivery = await load.delivery()
        race = await load.race()
    finally:
        await load.close()
    emit({"event": "result", "delivery": delivery, "race": race})


# --- the benchmark -------------------------------------------------------------------------------
def chat_texts() -> list[str]:
    """What citizens write to an advisor: the Finnish labelled case texts, without the crisis ones.

    One language, as a citizen keeps to theirs (a text in another language would switch the
    conversation's language, a change every console of the team is told about).
    """
    found: list[str] = []
    for name in ("dev_cases.jsonl", "holdout_cases.jsonl"):
        for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
            case = json.loads(line)
            if case["lang"] == "fi" and case["action"] != "crisis":
                found.append(case["text"])
    return found


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Environment variables set for the processes started inside (the server's settings)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored(database: Path, race_ids: list[str]) -> dict[str, int]:
    """From the database: the citizens' marked messages, and owners recorded per raced conversation."""
    with sqlite3.connect(database) as connection:
        marked = connection.execute(
            "select count(*) from messages where sender = 'citizen' and text like '%#c%n%'"
        ).fetchone()[0]
        one_owner = 0
        for conversation_id in race_ids:
            advisors = connection.execute(
                "select count(*) from participants where conversation_id = ? and role = 'advisor'", (conversation_id,)
            ).fetchone()[0]
            joined = connection.execute(
                "select count(*) from events where conversation_id = ? and name = 'advisor_joined'", (conversation_id,)
            ).fetchone()[0]
            one_owner += advisors == 1 and joined == 1
    return {"marked_messages": int(marked), "race_one_owner_stored": int(one_owner)}


def measure(
    citizens: int = CITIZENS,
    advisors: int = ADVISORS,
    rate: float = RATE,
    seconds: float = SECONDS,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """Start the server, drive the load from another process, and collect every figure."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        texts_file = directory / "texts.json"
        texts_file.write_text(json.dumps(chat_texts(), ensure_ascii=False))
        with environment(SERVER_ENV):
            server, port, database = neuvo_server(directory)
        figures: dict[str, Any] = {"idle_memory_mb": rss_mb(server.pid)[0]}
        try:
            password = secrets.token_urlsafe(16)
            neuvo = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yml")]
            add_admin = [*neuvo, "user", "add", "bench-admin", "--role", "admin", "--password-stdin"]
            subprocess.run(
                [*add_admin, "--db", f"sqlite:///{database}"],
                input=password + "\n",
                text=True,
                check=True,
                capture_output=True,
            )
            command = [
                sys.executable,
                "-m",
                "benchmarks.handoff_bench",
                "--drive",
                "--base",
                f"http://127.0.0.1:{port}",
            ]
            command += ["--texts", str(texts_file), "--citizens", str(citizens), "--advisors", str(advisors)]
            command += ["--rate", str(rate), "--seconds", str(seconds), "--rounds", str(rounds)]
            load = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert load.stdin is not None
            assert load.stdout is not None
            load.stdin.write(password + "\n")
            load.stdin.close()
            cpu_at_ready = wall_at_ready = 0.0
            for line in load.stdout:
                event = json.loads(line)
                if event["event"] in ("consoles_open", "citizens_open"):
                    figures[f"{event['event']}_memory_mb"], _ = rss_mb(server.pid)
                elif event["event"] == "ready":
                    figures["ready_memory_mb"], _ = rss_mb(server.pid)
                    cpu_at_ready, wall_at_ready = cpu_seconds(server.pid), time.perf_counter()
                elif event["event"] == "measured":
                    figures["server_cpu_share"] = (cpu_seconds(server.pid) - cpu_at_ready) / (
                        time.perf_counter() - wall_at_ready
                    )
                    figures["measured_memory_mb"], _ = rss_mb(server.pid)
                elif event["event"] == "result":
                    figures.update(delivery=event["delivery"], race=event["race"])
            if load.wait(timeout=60) != 0 or "delivery" not in figures:
                raise RuntimeError("the handoff load process failed")
            _, figures["peak_memory_mb"] = rss_mb(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        figures["stored"] = stored(database, figures["race"]["conversations"])
    return figures


def run() -> tuple[str, dict[str, Any]]:
    """Measure delivery to the advisor's console and the claim race; describe them as markdown."""
    if not (ROOT / ".neuvo" / "model").exists():
        subprocess.run([sys.executable, "-m", "bot", "train"], cwd=ROOT, check=True, capture_output=True)
    figures = measure()
    d, r, s = figures["delivery"], figures["race"], figures["stored"]
    lost_stored = d["sent"] - s["marked_messages"]
    losers = ", ".join(f"{count} x {code}" for code, count in sorted(r["losers"].items())) or "none"
    rows = [
        (
            f"citizen message -> owning advisor's console, p99 "
            f"({d['citizens']} conversations, {d['advisors']} advisors)",
            "< 100 ms",
            f"{d['p99_ms']:.1f} ms",
            d["p99_ms"] < 100,
        ),
        ("same, p50 / p95 / max", "", f"{d['p50_ms']:.1f} / {d['p95_ms']:.1f} / {d['max_ms']:.1f} ms", None),
        (
            "messages lost (sent - received by the owner's console)",
            "0",
            f"{d['lost']} of {d['sent']}",
            d["lost"] == 0,
        ),
        (
            "messages at a wrong console / twice / not stored",
            "0",
            f"{d['wrong_console']} / {d['duplicates']} / {lost_stored}",
            d["wrong_console"] == 0 and d["duplicates"] == 0 and lost_stored == 0,
        ),
        (
            f"claim races ({d['advisors']} advisors at once) with exactly one 200",
            f"{r['rounds']} of {r['rounds']}",
            f"{r['exactly_one_200']} of {r['rounds']}",
            r["exactly_one_200"] == r["rounds"],
        ),
        (
            "races with exactly one owner: in the console (GET) / in the database / told to the citizen",
            f"{r['rounds']} / {r['rounds']} / {r['rounds']}",
            f"{r['one_owner_in_console']} / {s['race_one_owner_stored']} / {r['citizen_told_once']}",
            r["one_owner_in_console"] == r["rounds"]
            and s["race_one_owner_stored"] == r["rounds"]
            and r["citizen_told_once"] == r["rounds"],
        ),
        ("the losers' answers", "409 already_claimed", losers, set(r["losers"]) == {"409 already_claimed"}),
        (
            f"server memory with {d['citizens']} widgets and {d['advisors']} consoles open (peak)",
            "",
            f"{figures['measured_memory_mb']:.0f} MB ({figures['peak_memory_mb']:.0f} MB; "
            f"{figures['idle_memory_mb']:.0f} MB idle after start)",
            None,
        ),
    ]
    table = "\n".join(
        f"| {name} | {target} | {value} | {'' if good is None else ('met' if good else '**NOT MET**')} |"
        for name, target, value, good in rows
    )
    share = -(-d["citizens"] // d["advisors"])
    markdown = f"""## Human handoff (issue: human handoff)

Alone: `.venv/bin/python -m benchmarks.handoff_bench` (prints this section).

`neuvo serve` on SQLite (the `make run` default; office hours set to `always`, so the figures do not
depend on the hour) in one process. A separate load process (`benchmarks/handoff_bench.py --drive`)
logs in {d["advisors"]} advisors (created through the admin API, capacity {share} each) with their
console WebSockets open, and opens {d["citizens"]} widget conversations. Each citizen types
"{ASK_FOR_HUMAN}" and is queued ({d["queue_seconds"]:.2f} s for all {d["citizens"]}); the advisors claim
{share} each ({d["claim_seconds"]:.2f} s for all {d["citizens"]} claims). Then the citizens write
{RATE:.0f} messages per second in total for {SECONDS:.0f} s (open loop: each citizen every
{CITIZENS / RATE:.0f} s, random phase, several times faster than people type; the Finnish texts of the
labelled case files without the crisis ones, each with a marker). A message's time runs from the
citizen's send to its `message` frame arriving on the owning advisor's console WebSocket, matched by
conversation id and marker. For comparison, the citizen's own round trip (send -> stored -> ack):
p50 {d["ack_p50_ms"]:.1f} ms, p99 {d["ack_p99_ms"]:.1f} ms.

Claim race: {r["rounds"]} rounds of one new citizen asking for a person; once every console has shown
the queued conversation, all {d["advisors"]} advisors `POST .../claim` at the same moment. The
conversation is then read back (`GET /console/api/conversations/{{id}}`: status `assigned`, held by
the winner, one "advisor joined" message), checked on the citizen's widget (one "advisor joined"
message) and, after the run, in the database (one advisor participant, one `advisor_joined` event);
the winner closes it before the next round. All {d["advisors"]} answers of a round arrived in p50
{r["resolve_p50_ms"]:.0f} ms, at most {r["resolve_max_ms"]:.0f} ms.

| figure | target | measured | |
|---|---|---|---|
{table}

The load process is not the bottleneck: during the message phase it used {d["client_cpu_share"]:.0%} of
one core, and its event loop woke up late by p99 {d["client_lag_p99_ms"]:.1f} ms (max
{d["client_lag_max_ms"]:.1f} ms), about as late as it can have noticed a frame. The server used
{figures["server_cpu_share"]:.0%} of one core over the same time.
"""
    return markdown, figures


def main() -> None:
    """``--drive``: be the load process; otherwise run the benchmark and print its section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drive", action="store_true", help="be the load process (started by the benchmark)")
    parser.add_argument("--base", help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--texts", type=Path, help="JSON file with a list of messages")
    parser.add_argument("--citizens", type=int, default=CITIZENS)
    parser.add_argument("--advisors", type=int, default=ADVISORS)
    parser.add_argument("--rate", type=float, default=RATE, help="citizen messages per second in total")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    if args.drive:
        asyncio.run(drive(args))
    else:
        markdown, figures = run()
        print(markdown)
        print(json.dumps(figures, indent=1, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
