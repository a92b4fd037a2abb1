"""The handoff on the real application and database: advisors with their own sessions, citizens with widgets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Config, HandoffSettings, TeamSettings
from handoff.accounts import Account
from handoff.hours import OfficeHours, parse_office_hours
from handoff.keys import ACCOUNTS_KEY, DESK_KEY
from nlu.interpreter import Interpreter

PASSWORD = "correct horse battery staple"
ZONE = ZoneInfo("Europe/Helsinki")


class FakeClock:
    """The desk's clock, moved by the test (office hours are set in the config instead)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def teams_config(config: Config, **changes: Any) -> Config:
    """Three teams: two always open, child maintenance always closed."""
    always = OfficeHours.always(ZONE)
    closed = parse_office_hours("closed", ZONE)
    handoff = HandoffSettings(
        teams=(
            TeamSettings(
                "social_advice",
                {"fi": "Sosiaaliohjaus", "sv": "Social handledning", "en": "Social guidance"},
                ("income_support", "working_age", "families", "elderly", "disability", "debt_advice"),
                always,
                20.0,
            ),
            TeamSettings(
                "health_social_work",
                {"fi": "Terveyssosiaalityö", "sv": "Socialt arbete i vården", "en": "Health social work"},
                ("health_social_work",),
                always,
                20.0,
            ),
            TeamSettings(
                "child_maintenance",
                {"fi": "Lastenvalvojat", "sv": "Barnatillsyningsmän", "en": "Child supervisors"},
                ("child_maintenance",),
                closed,
                30.0,
            ),
        ),
        default_team="social_advice",
        crisis_team="social_advice",
        reply_timeout_minutes=5.0,
        offline_grace_seconds=60.0,
        default_capacity=3,
    )
    return replace(config, handoff=replace(handoff, **changes))


def origin_of(client: TestClient) -> str:
    return f"http://{client.host}:{client.port}"


@dataclass
class Citizen:
    """A widget on the page: a WebSocket with the widget protocol."""

    socket: aiohttp.ClientWebSocketResponse
    token: str
    #: Frames received and not yet looked at by ``until``.
    pending: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    async def next(self, timeout: float = 10) -> list[dict[str, Any]]:
        data = await self.socket.receive_json(timeout=timeout)
        return data if isinstance(data, list) else [data]

    async def until(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        """The first frame (received before or from now on) that matches; earlier ones are passed over."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            while self.pending:
                frame = self.pending.pop(0)
                if predicate(frame):
                    return frame
            remaining = max(deadline - asyncio.get_running_loop().time(), 0.01)
            self.pending.extend(await self.next(timeout=remaining))

    async def say(self, text: str) -> list[dict[str, Any]]:
        """Send a message and return the turn's frames (up to the ack)."""
        self.counter += 1
        client_id = f"m{self.counter}"
        await self.socket.send_json({"type": "message", "id": client_id, "text": text})
        return await self._turn(client_id)

    async def press(self, action: str, label: str = "") -> list[dict[str, Any]]:
        self.counter += 1
        client_id = f"m{self.counter}"
        await self.socket.send_json({"type": "action", "id": client_id, "action": action, "label": label or action})
        return await self._turn(client_id)

    async def _turn(self, client_id: str) -> list[dict[str, Any]]:
        """The turn's own batch (its stored messages and the ack); other batches wait in ``pending``."""
        while True:
            batch = await self.next()
            if any(f.get("type") == "ack" and f.get("id") == client_id for f in batch):
                return batch
            self.pending.extend(batch)


@dataclass
class Advisor:
    """A person at the console: their own cookie jar, CSRF token and (optionally) live socket."""

    account: Account
    http: aiohttp.ClientSession
    base: str
    csrf: str = ""
    live: aiohttp.ClientWebSocketResponse | None = None
    received: list[dict[str, Any]] = field(default_factory=list)

    async def call(self, method: str, path: str, body: Any = None, *, csrf: bool = True) -> tuple[int, Any]:
        headers = {"Origin": self.base}
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.call("POST", path, {} if body is None else body)

    async def login(self, password: str = PASSWORD) -> tuple[int, Any]:
        status, data = await self.call(
            "POST", "/console/api/login", {"name": self.account.name, "password": password}, csrf=False
        )
        if status == 200:
            self.csrf = data["csrf_token"]
        return status, data

    async def connect(self) -> dict[str, Any]:
        self.live = await self.http.ws_connect(self.base + "/console/ws", headers={"Origin": self.base})
        return await self.frame(lambda f: f["type"] == "hello")

    async def frame(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        assert self.live is not None
        for seen in self.received:
            if predicate(seen):
                self.received.remove(seen)
                return seen
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = max(deadline - asyncio.get_running_loop().time(), 0.01)
            frame = await self.live.receive_json(timeout=remaining)
            if predicate(frame):
                return frame
            self.received.append(frame)

    async def close(self) -> None:
        if self.live is not None:
            await self.live.close()
        await self.http.close()


class Service:
    """The running application with helpers to add people."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock
        self.app = client.server.app
        self.base = origin_of(client)
        self._people: list[Advisor] = []
        self._citizens: list[Citizen] = []

    @property
    def desk(self) -> Any:
        return self.app[DESK_KEY]

    async def account(
        self,
        name: str,
        role: str = "advisor",
        teams: tuple[str, ...] = ("social_advice",),
        capacity: int = 3,
    ) -> Account:
        return await self.app[ACCOUNTS_KEY].create(
            name, password=PASSWORD, role=role, teams=list(teams), capacity=capacity, display_name=name.title()
        )

    async def advisor(self, name: str, *, connect: bool = True, **options: Any) -> Advisor:
        account = await self.account(name, **options)
        person = await self.person(account)
        status, _ = await person.login()
        assert status == 200
        if connect:
            await person.connect()
        return person

    async def person(self, account: Account) -> Advisor:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        person = Advisor(account, http, self.base)
        self._people.append(person)
        return person

    async def citizen(self, lang: str = "fi") -> Citizen:
        socket = await self.client.ws_connect("/ws", headers={"Origin": self.base})
        await socket.send_json({"type": "hello", "lang": lang})
        welcome = await socket.receive_json(timeout=10)
        citizen = Citizen(socket, welcome["token"])
        self._citizens.append(citizen)
        return citizen

    async def close(self) -> None:
        for person in self._people:
            await person.close()
        for citizen in self._citizens:
            await citizen.socket.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def handoff_config(server_config: Config) -> Config:
    return teams_config(server_config)


@pytest.fixture
async def service(
    aiohttp_client: Any, handoff_config: Config, engine: AsyncEngine, interpreter: Interpreter, clock: FakeClock
) -> AsyncIterator[Service]:
    app = create_app(handoff_config, interpreter=interpreter, engine=engine, clock=clock)
    client = await aiohttp_client(app)
    service = Service(client, clock)
    yield service
    await service.close()


async def ask_for_person(citizen: Citizen, text: str = "haluan puhua ihmisen kanssa") -> list[dict[str, Any]]:
    """A citizen asks for a human and gets queued (the frames of that turn)."""
    return await citizen.say(text)


def conversation_of(service: Service, index: int = -1) -> str:
    """The id of a waiting conversation (the newest, by default)."""
    entries = sorted(service.desk.queues, key=lambda e: e.queued_at or dt.datetime.min.replace(tzinfo=dt.UTC))
    return entries[index].id
