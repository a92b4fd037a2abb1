"""The widget's WebSocket protocol (docs/widget-protocol.md), against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.schema import Conversation, Message


def origin(client: Any) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def hello(client: Any, **frame: Any) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    socket = await client.ws_connect("/ws", headers=origin(client))
    await socket.send_json({"type": "hello", **frame})
    return socket, await socket.receive_json(timeout=10)


async def next_frames(socket: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """The frames of the next WebSocket message: one frame, or a turn's batch (a JSON array)."""
    data = await socket.receive_json(timeout=10)
    return data if isinstance(data, list) else [data]


async def frames_until(
    socket: aiohttp.ClientWebSocketResponse, kind: str, client_id: str | None = None
) -> list[dict[str, Any]]:
    """Every frame up to and including the first of a kind (for a given client id)."""
    seen: list[dict[str, Any]] = []
    while True:
        for frame in await next_frames(socket):
            seen.append(frame)
            if frame["type"] == kind and (client_id is None or frame.get("id") == client_id):
                return seen


async def say(socket: aiohttp.ClientWebSocketResponse, client_id: str, text: str) -> list[dict[str, Any]]:
    await socket.send_json({"type": "message", "id": client_id, "text": text})
    return await frames_until(socket, "ack", client_id)


async def count(engine: AsyncEngine, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def test_a_new_widget_gets_a_token_the_privacy_notice_first_and_a_menu(client) -> None:
    socket, welcome = await hello(client, lang="sv")
    assert welcome["type"] == "welcome"
    assert welcome["resumed"] is False
    assert len(welcome["token"]) >= 40
    assert welcome["lang"] == "sv"
    kinds = [m["kind"] for m in welcome["history"]]
    assert kinds[0] == "privacy"
    assert kinds[-1] == "menu"
    assert welcome["history"][-1]["buttons"]
    await socket.close()


async def test_a_turn_arrives_as_one_batch_ending_with_the_ack(client) -> None:
    socket, _ = await hello(client)
    await socket.send_json({"type": "message", "id": "b1", "text": "miten haen toimeentulotukea"})
    batch = await socket.receive_json(timeout=10)
    assert isinstance(batch, list)
    assert [f["type"] for f in batch][-1] == "ack"
    assert batch[0]["sender"] == "citizen"
    assert batch[0]["id"] == "b1"
    await socket.close()


async def test_a_message_is_stored_before_it_is_acknowledged_and_answered(client, engine) -> None:
    socket, welcome = await hello(client, lang="fi")
    frames = await say(socket, "m1", "miten haen toimeentulotukea")
    ack = frames[-1]
    assert ack == {"type": "ack", "id": "m1", "seq": welcome["last_seq"] + 1, "duplicate": False, "status": "bot"}
    answers = [f for f in frames if f["type"] == "message" and f["sender"] == "bot"]
    assert answers[0]["kind"] == "answer"
    assert "Kela" in answers[0]["text"]
    assert await count(engine, Message.__table__, client_id="m1") == 1
    await socket.close()


async def test_a_resent_message_is_acknowledged_again_but_stored_once(client, engine) -> None:
    socket, _ = await hello(client)
    first = await say(socket, "same", "moi")
    again = await say(socket, "same", "moi")
    assert again[-1]["duplicate"] is True
    assert again[-1]["seq"] == first[-1]["seq"]
    assert await count(engine, Message.__table__, client_id="same") == 1
    await socket.close()


async def test_a_reconnect_with_the_token_resumes_the_same_conversation(client) -> None:
    socket, welcome = await hello(client)
    await say(socket, "q1", "mist saa apua veloihin")
    await socket.close()
    again, resumed = await hello(client, token=welcome["token"], after=0)
    assert resumed["resumed"] is True
    assert "token" not in resumed
    texts = [m["text"] for m in resumed["history"]]
    assert "mist saa apua veloihin" in texts
    seqs = [m["seq"] for m in resumed["history"]]
    assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
    later, partial = await hello(client, token=welcome["token"], after=seqs[-2])
    assert [m["seq"] for m in partial["history"]] == [seqs[-1]]
    await again.close()
    await later.close()


async def test_an_unknown_token_starts_a_new_conversation_and_reveals_nothing(client, engine) -> None:
    socket, welcome = await hello(client)
    await say(socket, "secret", "velkaa on 6000 euroa")
    stranger, other = await hello(client, token="x" * 43)
    assert other["resumed"] is False
    assert other["token"] != welcome["token"]
    assert all("6000" not in m["text"] for m in other["history"])
    assert await count(engine, Conversation.__table__) == 2
    await socket.close()
    await stranger.close()


async def test_invalid_json_gets_an_error_frame_and_the_connection_stays(client) -> None:
    socket, _ = await hello(client)
    await socket.send_str("{not json")
    error = await socket.receive_json(timeout=10)
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert error["message"]
    frames = await say(socket, "after", "kiitos")
    assert frames[-1]["type"] == "ack"
    await socket.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "id": "x1"},
        {"type": "message", "id": "x2", "text": 5},
        {"type": "message", "text": "no id"},
        {"type": "message", "id": "bad id with spaces", "text": "x"},
        {"type": "action", "id": "x3", "action": "<script>"},
        {"type": "teleport", "id": "x4"},
        ["not", "an", "object"],
    ],
)
async def test_malformed_frames_are_refused_with_an_error(client, frame: Any) -> None:
    socket, _ = await hello(client)
    await socket.send_json(frame)
    error = await socket.receive_json(timeout=10)
    assert error["type"] == "error"
    assert error["code"] == "bad_frame"
    await socket.close()


async def test_an_over_long_message_is_refused_with_its_id_and_nothing_is_stored(client, engine, server_config) -> None:
    socket, _ = await hello(client)
    await socket.send_json(
        {"type": "message", "id": "long", "text": "a" * (server_config.widget.max_message_chars + 1)}
    )
    error = await socket.receive_json(timeout=10)
    assert (error["code"], error["id"]) == ("too_long", "long")
    assert str(server_config.widget.max_message_chars) in error["message"]
    assert await count(engine, Message.__table__, client_id="long") == 0
    await socket.close()


async def test_a_flood_is_rate_limited_with_a_clear_message(client, server_config) -> None:
    socket, _ = await hello(client)
    burst = server_config.widget.burst
    for number in range(burst + 5):
        await socket.send_json({"type": "message", "id": f"f{number}", "text": "moi"})
    errors = []
    acks = 0
    while acks + len(errors) < burst + 5:
        for frame in await next_frames(socket):
            if frame["type"] == "ack":
                acks += 1
            elif frame["type"] == "error":
                errors.append(frame)
    assert acks == burst
    assert {e["code"] for e in errors} == {"rate_limited"}
    assert errors[0]["message"]
    await socket.close()


async def test_a_page_of_another_origin_cannot_open_the_widget(client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/ws")


async def test_a_socket_that_never_says_hello_is_closed(client) -> None:
    socket = await client.ws_connect("/ws", headers=origin(client))
    await socket.send_json({"type": "message", "id": "m", "text": "moi"})
    error = await socket.receive_json(timeout=10)
    assert error["code"] == "hello_expected"
    closing = await socket.receive(timeout=10)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_binary_frames_and_pings(client) -> None:
    socket, _ = await hello(client)
    await socket.send_bytes(b"\x00\x01")
    assert (await socket.receive_json(timeout=10))["code"] == "bad_frame"
    await socket.send_json({"type": "ping"})
    assert (await socket.receive_json(timeout=10)) == {"type": "pong"}
    await socket.close()


async def test_two_tabs_of_one_conversation_both_see_each_message(client) -> None:
    first, welcome = await hello(client)
    second, _ = await hello(client, token=welcome["token"])
    await say(first, "tab1", "moi")
    seen: list[dict[str, Any]] = []
    while not any(f.get("id") == "tab1" for f in seen):
        seen += await next_frames(second)
    await first.close()
    await second.close()


async def test_many_concurrent_conversations_lose_and_duplicate_nothing(client, engine) -> None:
    async def one(number: int) -> list[int]:
        socket, _ = await hello(client)
        seqs = []
        for turn in range(5):
            frames = await say(socket, f"c{number}t{turn}", "mist saa toimeentulotukea")
            seqs.append(frames[-1]["seq"])
        await socket.close()
        return seqs

    results = await asyncio.gather(*(one(n) for n in range(20)))
    assert all(len(set(seqs)) == 5 for seqs in results)
    async with engine.connect() as connection:
        citizen = (
            await connection.execute(
                select(func.count()).select_from(Message.__table__).where(Message.__table__.c.sender == "citizen")
            )
        ).scalar_one()
        duplicates = (
            await connection.execute(
                select(Message.__table__.c.conversation_id, Message.__table__.c.seq)
                .group_by(Message.__table__.c.conversation_id, Message.__table__.c.seq)
                .having(func.count() > 1)
            )
        ).all()
    assert citizen == 100
    assert duplicates == []


async def test_health_and_readiness(client) -> None:
    assert (await (await client.get("/health")).json()) == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"database": "ok", "nlu": "ok"}


async def test_pages_are_served_with_security_headers(client) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert 'src="/widget.js"' in await page.text()
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    script = await client.get("/widget.js")
    assert script.headers["Content-Type"].startswith("application/javascript")
    statement = await client.get("/accessibility")
    body = await statement.text()
    assert "306/2019" in body
    assert "Esimerkkilän hyvinvointialue" in body
    assert "{" not in body.split("<main>")[1]
