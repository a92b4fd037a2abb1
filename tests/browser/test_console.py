"""A citizen in the widget and an advisor in the console, each in their own real browser context."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, expect

from bot.app import create_app
from bot.config import Config
from bot.storage.database import async_url, create_engine, upgrade
from handoff.keys import ACCOUNTS_KEY
from nlu.interpreter import Interpreter
from tests.handoff.conftest import PASSWORD, teams_config

TIMEOUT = 15_000
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> **bold** [link](javascript:alert(1))'


@pytest.fixture
async def server(tmp_path: Path, test_config: Config, interpreter: Interpreter) -> AsyncIterator[TestServer]:
    """The real application on SQLite, with social advice open around the clock."""
    url = f"sqlite:///{tmp_path / 'neuvo.db'}"
    config = teams_config(replace(test_config, database=replace(test_config.database, url=url)))
    engine = create_engine(async_url(url))
    await upgrade(engine)
    server = TestServer(create_app(config, interpreter=interpreter, engine=engine), host="127.0.0.1")
    await server.start_server()
    await server.app[ACCOUNTS_KEY].create(
        "anna", password=PASSWORD, role="advisor", teams=["social_advice"], capacity=3, display_name="Anna"
    )
    yield server
    await server.close()
    await engine.dispose()


@pytest.fixture
async def citizen(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context()
    yield context
    await context.close()


@pytest.fixture
async def advisor(browser: Browser) -> AsyncIterator[BrowserContext]:
    """The console follows the browser's language; this advisor's browser speaks Finnish."""
    context = await browser.new_context(locale="fi-FI")
    yield context
    await context.close()


async def open_widget(context: BrowserContext, server: TestServer) -> Page:
    page = await context.new_page()
    await page.goto(str(server.make_url("/")))
    await page.get_by_role("button", name="Kysy sosiaalipalveluista").click()
    await expect(page.get_by_role("log")).to_contain_text("Tämä keskustelu on nimetön", timeout=TIMEOUT)
    return page


async def ask(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Kirjoita viestisi").fill(text)
    await page.keyboard.press("Enter")


async def sign_in(context: BrowserContext, server: TestServer) -> Page:
    page = await context.new_page()
    await page.goto(str(server.make_url("/console")))
    await page.get_by_label("Käyttäjätunnus").fill("anna")
    await page.get_by_label("Salasana").fill(PASSWORD)
    await page.get_by_role("button", name="Kirjaudu", exact=True).click()
    await expect(page.get_by_role("heading", name="Jono", exact=False).first).to_be_visible(timeout=TIMEOUT)
    return page


def queue_rows(console: Page):  # type: ignore[no-untyped-def]
    return console.locator("#queue-rows tr")


async def serious_violations(page: Page, axe_source: str) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(content=axe_source)
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    assert result["passes"], "axe ran no checks"
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_a_citizen_reaches_an_advisor_who_replies_and_closes(
    server: TestServer, citizen: BrowserContext, advisor: BrowserContext
) -> None:
    console = await sign_in(advisor, server)
    await expect(console.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT)

    widget = await open_widget(citizen, server)
    await ask(widget, "haluan puhua ihmisen kanssa")
    log = widget.get_by_role("log")
    await expect(log).to_contain_text("jonossa", timeout=TIMEOUT)

    await expect(queue_rows(console)).to_have_count(1, timeout=TIMEOUT)
    await queue_rows(console).first.get_by_role("button", name="Ota hoitoon").click()
    reply = console.get_by_label("Vastaus asiakkaalle")
    await expect(reply).to_be_focused(timeout=TIMEOUT)
    transcript = console.get_by_role("log")
    await expect(transcript).to_contain_text("haluan puhua ihmisen kanssa", timeout=TIMEOUT)

    await expect(log).to_contain_text("Anna", timeout=TIMEOUT)
    await reply.fill("Hei, olen Anna sosiaaliohjauksesta. Miten voin auttaa?")
    await reply.press("Enter")
    await expect(log).to_contain_text("Miten voin auttaa?", timeout=TIMEOUT)

    await ask(widget, "Tarvitsen apua vuokraan")
    await expect(transcript).to_contain_text("Tarvitsen apua vuokraan", timeout=TIMEOUT)
    # While the advisor holds the conversation, the bot stays silent.
    await widget.wait_for_timeout(500)
    assert "Kela" not in await log.inner_text()

    await console.get_by_role("button", name="Päätä keskustelu…").click()
    dialog = console.get_by_role("dialog")
    await dialog.get_by_label("Vastattu").check()
    await dialog.get_by_role("button", name="Päätä keskustelu").click()
    await expect(console.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT)

    await ask(widget, "miten haen toimeentulotukea")
    await expect(log).to_contain_text("Kela", timeout=TIMEOUT)


async def test_what_a_citizen_typed_is_shown_as_text_never_as_html(
    server: TestServer, citizen: BrowserContext, advisor: BrowserContext
) -> None:
    console = await sign_in(advisor, server)
    widget = await open_widget(citizen, server)
    await ask(widget, "haluan puhua ihmisen kanssa")
    await expect(queue_rows(console)).to_have_count(1, timeout=TIMEOUT)
    await queue_rows(console).first.get_by_role("button", name="Ota hoitoon").click()
    transcript = console.get_by_role("log")
    await expect(transcript).to_contain_text("haluan puhua ihmisen kanssa", timeout=TIMEOUT)

    await ask(widget, HOSTILE)
    await expect(transcript).to_contain_text(HOSTILE, timeout=TIMEOUT)
    assert await transcript.locator("script, img, a[href^='javascript']").count() == 0
    assert await console.evaluate("window.pwned") is None
    await console.reload()
    await expect(console.get_by_role("log")).to_contain_text(HOSTILE, timeout=TIMEOUT)
    assert await console.evaluate("window.pwned") is None


async def test_a_crisis_jumps_to_the_top_of_the_queue_and_is_marked(
    server: TestServer, browser: Browser, advisor: BrowserContext
) -> None:
    console = await sign_in(advisor, server)
    first = await browser.new_context()
    second = await browser.new_context()
    try:
        waiting = await open_widget(first, server)
        await ask(waiting, "haluan puhua ihmisen kanssa")
        await expect(queue_rows(console)).to_have_count(1, timeout=TIMEOUT)

        crisis = await open_widget(second, server)
        await ask(crisis, "en jaksa enää, haluan tappaa itseni")
        await expect(crisis.get_by_role("log")).to_contain_text("112", timeout=TIMEOUT)
        await expect(queue_rows(console)).to_have_count(2, timeout=TIMEOUT)
        top = queue_rows(console).first
        await expect(top).to_have_class("row--crisis")
        await expect(top.locator("td.priority")).to_contain_text("Kriisi")
        await expect(queue_rows(console).nth(1).locator("td.priority")).not_to_contain_text("Kriisi")
    finally:
        await first.close()
        await second.close()


async def test_the_console_is_usable_by_keyboard_alone(
    server: TestServer, citizen: BrowserContext, advisor: BrowserContext
) -> None:
    console = await advisor.new_page()
    await console.goto(str(server.make_url("/console")))
    name = console.get_by_label("Käyttäjätunnus")
    await expect(name).to_be_visible(timeout=TIMEOUT)
    await name.focus()
    await console.keyboard.type("anna")
    await console.keyboard.press("Tab")
    await console.keyboard.type(PASSWORD)
    await console.keyboard.press("Enter")
    await expect(console.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT)

    widget = await open_widget(citizen, server)
    await ask(widget, "haluan puhua ihmisen kanssa")
    claim = queue_rows(console).first.get_by_role("button", name="Ota hoitoon")
    await expect(claim).to_be_visible(timeout=TIMEOUT)
    for _ in range(40):
        if await claim.evaluate("node => node === document.activeElement"):
            break
        await console.keyboard.press("Tab")
    else:
        pytest.fail("the claim button cannot be reached with Tab")
    await console.keyboard.press("Enter")
    await expect(console.get_by_label("Vastaus asiakkaalle")).to_be_focused(timeout=TIMEOUT)
    await console.keyboard.type("Hei näppäimistöltä")
    await console.keyboard.press("Enter")
    await expect(widget.get_by_role("log")).to_contain_text("Hei näppäimistöltä", timeout=TIMEOUT)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
async def test_axe_finds_no_serious_violations_in_any_view(
    server: TestServer, browser: Browser, citizen: BrowserContext, axe_source: str, language: str
) -> None:
    # Our CSP forbids injected scripts, axe's included: this context alone bypasses it.
    advisor = await browser.new_context(bypass_csp=True)
    await advisor.add_init_script(f"localStorage.setItem('neuvo-console:language', {json.dumps(language)})")
    console = await advisor.new_page()
    await console.goto(str(server.make_url("/console")))
    await expect(console.locator("#login-name")).to_be_visible(timeout=TIMEOUT)
    assert await console.evaluate("document.documentElement.lang") == language
    assert await serious_violations(console, axe_source) == []

    await console.locator("#login-name").fill("anna")
    await console.locator("#login-password").fill(PASSWORD)
    await console.keyboard.press("Enter")
    await expect(console.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT)
    widget = await open_widget(citizen, server)
    await ask(widget, "haluan puhua ihmisen kanssa")
    await expect(queue_rows(console)).to_have_count(1, timeout=TIMEOUT)
    assert await serious_violations(console, axe_source) == []

    await queue_rows(console).first.locator("[data-action=claim]").click()
    await expect(console.get_by_role("log")).to_contain_text("haluan puhua ihmisen kanssa", timeout=TIMEOUT)
    assert await serious_violations(console, axe_source) == []
    await advisor.close()


async def test_canned_responses_notes_and_a_transfer_to_another_team(
    server: TestServer, browser: Browser, citizen: BrowserContext, advisor: BrowserContext
) -> None:
    await server.app[ACCOUNTS_KEY].create(
        "ville", password=PASSWORD, role="advisor", teams=["health_social_work"], capacity=3, display_name="Ville"
    )
    console = await sign_in(advisor, server)
    widget = await open_widget(citizen, server)
    log = widget.get_by_role("log")
    await ask(widget, "haluan puhua ihmisen kanssa")
    await expect(queue_rows(console)).to_have_count(1, timeout=TIMEOUT)
    await queue_rows(console).first.get_by_role("button", name="Ota hoitoon").click()
    reply = console.get_by_label("Vastaus asiakkaalle")
    await expect(reply).to_be_focused(timeout=TIMEOUT)

    await console.get_by_role("button", name="Tervehdys").click()
    await expect(reply).to_have_value("Hei, olen sosiaaliohjaaja ja jatkan keskustelua kanssasi. Miten voin auttaa?")
    await reply.press("Enter")
    await expect(log).to_contain_text("jatkan keskustelua kanssasi", timeout=TIMEOUT)

    await console.get_by_label("Uusi sisäinen muistiinpano").fill("Asiakas mainitsi sairaalajakson")
    await console.get_by_role("button", name="Lisää muistiinpano").click()
    await expect(console.get_by_role("log")).to_contain_text("Asiakas mainitsi sairaalajakson", timeout=TIMEOUT)

    second = await browser.new_context(locale="fi-FI")
    try:
        colleague = await second.new_page()
        await colleague.goto(str(server.make_url("/console")))
        await colleague.get_by_label("Käyttäjätunnus").fill("ville")
        await colleague.get_by_label("Salasana").fill(PASSWORD)
        await colleague.keyboard.press("Enter")
        await expect(colleague.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT)

        await console.get_by_role("button", name="Siirrä…").click()
        dialog = console.get_by_role("dialog")
        await dialog.get_by_label("Tiimi", exact=True).select_option("health_social_work")
        await dialog.get_by_role("button", name="Siirrä", exact=True).click()
        await expect(queue_rows(colleague)).to_have_count(1, timeout=TIMEOUT)
        await queue_rows(colleague).first.get_by_role("button", name="Avaa").click()
        await expect(colleague.get_by_role("log")).to_contain_text("Asiakas mainitsi sairaalajakson", timeout=TIMEOUT)
    finally:
        await second.close()
    assert "sairaalajakson" not in await log.inner_text()
