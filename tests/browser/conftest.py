"""Browser tests: the real server on loopback, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, async_playwright

from bot.app import create_app
from bot.config import Config
from bot.keys import CORE_KEY
from bot.storage.database import async_url, create_engine, upgrade
from nlu.interpreter import Interpreter

CHROMIUM = os.environ.get("NEUVO_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: As root Chromium needs --no-sandbox; the rest keep it off the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
]


def require(path: Path | str, what: str) -> None:
    if not Path(path).exists():
        message = f"{what} is missing at {path}"
        if IN_CI:
            pytest.fail(f"{message}; .ci/run installs it")
        pytest.skip(f"{message} (CI installs it)")


@pytest.fixture
async def server(tmp_path: Path, test_config: Config, interpreter: Interpreter) -> AsyncIterator[TestServer]:
    """The real application on a real SQLite database, listening on loopback."""
    url = f"sqlite:///{tmp_path / 'neuvo.db'}"
    config = replace(test_config, database=replace(test_config.database, url=url))
    engine = create_engine(async_url(url))
    await upgrade(engine)
    server = TestServer(create_app(config, interpreter=interpreter, engine=engine), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()
    await engine.dispose()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require(CHROMIUM, "Debian's Chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def axe_source() -> str:
    require(AXE, "axe-core (npm)")
    return AXE.read_text(encoding="utf-8")


__all__ = ["CORE_KEY"]
