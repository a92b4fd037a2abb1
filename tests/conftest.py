"""Fixtures shared by the whole suite: the content, one model trained on it, real databases, the real app."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Config, load_config
from bot.storage.database import async_url, create_engine, upgrade
from nlu.content import Content, load_content
from nlu.crisis import default_detector
from nlu.interpreter import Interpreter
from nlu.model import NluModel
from nlu.training import train_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def repo_config() -> Config:
    """The repository's own config.yml, as `make run` uses it."""
    return load_config(ROOT / "config.yml", environ={})


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "data" / "intents")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, content: Content) -> Path:
    """A model trained once per test session on the real content, outside the working tree."""
    directory = tmp_path_factory.mktemp("model")
    train_model(content).save(directory)
    return directory


@pytest.fixture(scope="session")
def model(model_dir: Path) -> NluModel:
    return NluModel.load(model_dir)


@pytest.fixture(scope="session")
def test_config(repo_config: Config, model_dir: Path) -> Config:
    """The repository's config with the model directory pointing at the session's model."""
    return replace(repo_config, nlu=replace(repo_config.nlu, model_dir=model_dir))


@pytest.fixture(scope="session")
def interpreter(model: NluModel, test_config: Config) -> Interpreter:
    return Interpreter(model.engine, model.intents, model.identifier, default_detector(), test_config.nlu)


POSTGRES_ADMIN = os.environ.get("NEUVO_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_reachable() -> bool:
    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


POSTGRES = _postgres_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database of each kind; PostgreSQL gets its own database per test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'neuvo.db'}"
        return
    if not POSTGRES:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {POSTGRES_ADMIN}")
        pytest.skip("PostgreSQL not reachable (CI runs it)")
    name = f"neuvo_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database."""
    engine = create_engine(async_url(database_url))
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def server_config(test_config: Config, database_url: str) -> Config:
    return replace(test_config, database=replace(test_config.database, url=database_url))


@pytest.fixture
async def client(aiohttp_client, server_config: Config, engine: AsyncEngine, interpreter: Interpreter):  # type: ignore[no-untyped-def]
    """A test client of the real application on a real database."""
    app = create_app(server_config, interpreter=interpreter, engine=engine)
    return await aiohttp_client(app)
