"""A citizen uses the widget in a real browser: asks, reloads, meets a crisis, by keyboard, at 320 px."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.keys import CHANNELS_KEY, ENGINE_KEY
from bot.storage.schema import Message

TIMEOUT = 15_000


async def open_widget(page: Page, server: TestServer) -> None:
    await page.goto(str(server.make_url("/")))
    await page.get_by_role("button", name="Kysy sosiaalipalveluista").click()
    await expect(page.get_by_role("log")).to_contain_text("Tämä keskustelu on nimetön", timeout=TIMEOUT)


async def ask(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Kirjoita viestisi").fill(text)
    await page.keyboard.press("Enter")


async def stored_texts(server: TestServer, sender: str = "citizen") -> list[str]:
    engine = server.app[ENGINE_KEY]
    table = Message.__table__
    async with engine.connect() as connection:
        rows = await connection.execute(select(table.c.text).where(table.c.sender == sender).order_by(table.c.id))
        return list(rows.scalars())


async def test_a_citizen_asks_in_finnish_and_gets_the_right_answer(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await open_widget(page, server)
    await ask(page, "mist saa toimeentulotukee")
    log = page.get_by_role("log")
    await expect(log).to_contain_text("mist saa toimeentulotukee", timeout=TIMEOUT)
    await expect(log).to_contain_text("Kela", timeout=TIMEOUT)
    await expect(page.get_by_role("button", name="Kyllä")).to_be_visible()
    await page.get_by_role("button", name="Kyllä").click()
    await expect(log).to_contain_text("Hienoa", timeout=TIMEOUT)


async def test_after_a_reload_the_conversation_is_shown_as_it_was(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await open_widget(page, server)
    await ask(page, "miten haen päiväkotipaikkaa")
    log = page.get_by_role("log")
    await expect(log).to_contain_text("Auttoiko tämä vastaus?", timeout=TIMEOUT)
    before = await log.inner_text()
    await page.reload()
    await expect(log).to_contain_text("Auttoiko tämä vastaus?", timeout=TIMEOUT)
    after = await log.inner_text()
    assert after.count("miten haen päiväkotipaikkaa") == 1
    assert after == before
    assert await stored_texts(server) == ["miten haen päiväkotipaikkaa"]


async def test_a_crisis_message_shows_emergency_guidance(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await open_widget(page, server)
    await ask(page, "en jaksa enää elää")
    log = page.get_by_role("log")
    await expect(log).to_contain_text("112", timeout=TIMEOUT)
    await expect(log).to_contain_text("09 2525 0111", timeout=TIMEOUT)
    await expect(page.locator("[data-neuvo-widget]").locator(".msg--crisis")).to_have_count(1)


async def test_a_dropped_connection_loses_and_duplicates_nothing(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await open_widget(page, server)
    web = next(channel for channel in server.app[CHANNELS_KEY] if channel.name == "web")
    for sockets in list(web.sockets.values()):
        for socket in list(sockets):
            await socket.close(code=1012, message=b"restart")
    await ask(page, "saako toimeentulotukea jos omistaa auton")  # sent while reconnecting
    log = page.get_by_role("log")
    await expect(log).to_contain_text("Auttoiko tämä vastaus?", timeout=TIMEOUT)
    text = await log.inner_text()
    assert text.count("saako toimeentulotukea jos omistaa auton") == 1
    assert await stored_texts(server) == ["saako toimeentulotukea jos omistaa auton"]


async def test_the_widget_is_operable_by_keyboard(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await page.goto(str(server.make_url("/")))
    launcher = page.get_by_role("button", name="Kysy sosiaalipalveluista")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await launcher.evaluate("node => node.getRootNode().activeElement === node"):
            break
    await page.keyboard.press("Enter")
    textbox = page.get_by_role("textbox", name="Kirjoita viestisi")
    await expect(textbox).to_be_focused(timeout=TIMEOUT)
    await page.keyboard.type("moi")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("log")).to_contain_text("Valitse aihe", timeout=TIMEOUT)
    await page.keyboard.press("Escape")
    await expect(launcher).to_be_focused()
    await expect(page.get_by_role("dialog")).to_be_hidden()


async def test_what_a_citizen_types_is_shown_as_text_never_run(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: alerts.append(dialog.message))
    await open_widget(page, server)
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script> **bold** [link](javascript:alert(3))'
    await ask(page, attack)
    await expect(page.get_by_role("log")).to_contain_text('<img src=x onerror="alert(1)">', timeout=TIMEOUT)
    assert alerts == []
    assert await page.locator("[data-neuvo-widget]").locator(".log img, .log script").count() == 0


async def test_it_works_at_320_pixels(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await open_widget(page, server)
    await ask(page, "miten haen toimeentulotukea")
    await expect(page.get_by_role("log")).to_contain_text("Kela", timeout=TIMEOUT)
    box = await page.get_by_role("dialog").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 320
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320


async def test_the_open_widget_has_no_serious_or_critical_accessibility_violations(
    browser: Browser, server: TestServer, axe_source: str
) -> None:
    page = await browser.new_page(bypass_csp=True)  # our CSP forbids injected scripts, axe's included
    await open_widget(page, server)
    await ask(page, "miten haen toimeentulotukea")
    await expect(page.get_by_role("button", name="Kyllä")).to_be_visible(timeout=TIMEOUT)
    await page.add_script_tag(content=axe_source)
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    serious = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], json.dumps(serious, indent=2)
    assert result["passes"], "axe ran no checks"


async def test_the_accessibility_statement_is_linked_from_the_widget(browser: Browser, server: TestServer) -> None:
    page = await browser.new_page()
    await open_widget(page, server)
    link = page.locator("[data-neuvo-widget]").get_by_role("link", name="Saavutettavuusseloste")
    href = await link.get_attribute("href")
    assert href is not None
    assert "/accessibility" in href
    statement = await browser.new_page()
    await statement.goto(href)
    await expect(statement.get_by_role("heading", level=1).first).to_contain_text("Saavutettavuusseloste")
    await expect(statement.get_by_text("Anna palautetta saavutettavuudesta")).to_be_visible()
