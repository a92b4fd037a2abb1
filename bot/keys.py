"""Typed keys for what the aiohttp application shares between its parts."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from nlu.interpreter import Interpreter

from .config import Config
from .dialogue.core import DialogueCore
from .handlers.base import Channel
from .storage.store import Store

CONFIG_KEY: web.AppKey[Config] = web.AppKey("config", Config)
ENGINE_KEY: web.AppKey[AsyncEngine] = web.AppKey("engine", AsyncEngine)
STORE_KEY: web.AppKey[Store] = web.AppKey("store", Store)
INTERPRETER_KEY: web.AppKey[Interpreter] = web.AppKey("interpreter", Interpreter)
CORE_KEY: web.AppKey[DialogueCore] = web.AppKey("core", DialogueCore)
CHANNELS_KEY: web.AppKey[list[Channel]] = web.AppKey("channels", list)
