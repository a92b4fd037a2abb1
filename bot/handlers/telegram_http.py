"""python-telegram-bot's HTTP transport on aiohttp, the server's own HTTP library.

python-telegram-bot sends Bot API requests through a replaceable ``BaseRequest``; its default
uses httpx, whose connection pool costs a scan of every pooled connection per request. Under
load (hundreds of replies a second) that was the larger part of the channel's CPU time. This
``BaseRequest`` sends the same requests through one aiohttp ``ClientSession``, as the rest of the
application does, and maps failures to the library's own errors, so everything above it (retries,
``RetryAfter``) works unchanged. Parameters go as a JSON body, which the Bot API accepts for every
method without files (encoding a long reply as a form costs a Python call per character);
multipart when files go along.
"""

from __future__ import annotations

import json
from typing import Final

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DEFAULT_CONNECT_SECONDS: Final = 5.0
DEFAULT_WRITE_SECONDS: Final = 5.0
JSON_HEADERS: Final = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session, a bounded number of connections, the Bot API's timeouts."""

    def __init__(self, connections: int, read_timeout: float = 5.0) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """How long a response may take unless a call says otherwise (getUpdates: the long-poll time and more)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (python-telegram-bot calls this from ``Application.initialize``)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; the status and body go back to python-telegram-bot, which reads them.

        Raises:
            TimedOut: when connecting, or the answer, took longer than allowed.
            NetworkError: when the connection failed.

        """
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = DEFAULT_CONNECT_SECONDS if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = None if isinstance(pool_timeout, DefaultValue) else pool_timeout
        timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                body = form
            else:
                # ``parameters``, not ``json_payload``: that one nests each value as a JSON string.
                body, headers = json.dumps(request_data.parameters).encode(), JSON_HEADERS
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error
