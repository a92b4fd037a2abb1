"""The one base every channel implements: build from config, register routes, deliver messages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from aiohttp import web

from ..config import Config
from ..dialogue.core import DialogueCore
from ..dialogue.model import Outbound
from ..dialogue.state import ConversationState


class Channel(ABC):
    """A way citizens reach Neuvo.

    A channel turns what arrives (a WebSocket frame, a Telegram update) into
    :class:`~bot.dialogue.model.Inbound` messages for the one
    :class:`~bot.dialogue.core.DialogueCore`, and delivers the core's
    :class:`~bot.dialogue.model.Outbound` messages back. It holds no dialogue logic:
    a new channel is one new module in ``bot/handlers/``.
    """

    #: The name stored with each conversation and used in configuration.
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_config(cls, config: Config) -> Channel:
        """Build the channel from the application's validated configuration."""

    @abstractmethod
    def setup(self, app: web.Application) -> None:
        """Register the channel's routes on the application (before it starts)."""

    async def start(self, core: DialogueCore) -> None:
        """Begin receiving; the core is ready. The default registers delivery and signals."""
        core.register_channel(self.name, self.deliver, self.signal)

    async def stop(self) -> None:  # noqa: B027 - optional hook, most channels need nothing
        """Stop receiving and release connections."""

    @abstractmethod
    async def deliver(
        self, conversation: ConversationState, messages: Sequence[Outbound], origin: object | None = None
    ) -> None:
        """Send stored messages to the citizen of a conversation, if they are reachable now.

        ``origin`` is the channel's own handle from the :class:`Inbound` that caused them (or None);
        the channel may answer it separately.
        """

    async def signal(self, conversation: ConversationState, payload: dict[str, Any]) -> None:  # noqa: B027
        """Show the citizen something that is not a stored message, if the channel can.

        ``payload["type"]`` is ``queue`` (``position``, ``wait_minutes``, ``text``: their place in the
        advisors' queue, updated live) or ``typing`` (``sender``: an advisor is writing). Channels
        that cannot show these ignore them; nothing depends on their arrival.
        """
