"""A tab Streamlit gives up on must be told: its socket is closed, so the browser reconnects to its session.

Streamlit 1.67 (streamlit/web/server/starlette/starlette_websocket.py) queues each browser's messages, at most
WEBSOCKET_MAX_SEND_QUEUE_SIZE (500) of them. When a tab's queue is full, the client is marked closed and its session
is moved out of the active ones, but the socket stays open. The browser then receives what was queued and nothing
more, and never reconnects, because for it nothing was closed: its page freezes, training, for good.

It happened to a student training beside another who opened ten tabs (bench/damage.py): the worker fell behind
with its messages for a few seconds, the student's queue filled first, and its Step froze about 20 s later, while
the run it showed was given back to the class as if the tab had closed.

Closing the socket when that happens (code 1013, "try again later") makes the browser reconnect at once. Streamlit
keeps a disconnected session for its reconnection, so the student comes back to the same session, with its state
and run, after a moment of "Connecting".
"""
from __future__ import annotations

import asyncio
import functools
import logging

from streamlit.runtime.session_manager import SessionClientDisconnectedError

log = logging.getLogger(__name__)

TRY_AGAIN_LATER = 1013  # the WebSocket close code for a server that is overloaded for now


def close_socket_when_overwhelmed(client_class) -> None:
    """Wrap client_class.write_forward_msg (Streamlit's StarletteSessionClient): when it gives up on the client
    (SessionClientDisconnectedError), the client's WebSocket is closed as well, on its event loop."""
    original = client_class.write_forward_msg
    if getattr(original, "closes_socket", False):
        return

    @functools.wraps(original)  # keeps Streamlit's own as __wrapped__
    def write_forward_msg(self, msg) -> None:
        try:
            original(self, msg)
        except SessionClientDisconnectedError:
            _close_later(self)
            raise

    write_forward_msg.closes_socket = True
    client_class.write_forward_msg = write_forward_msg


def _close_later(client) -> None:
    """Close the client's socket on its event loop, once (the sender task belongs to that loop)."""
    if getattr(client, "_playground_closing", False):
        return
    client._playground_closing = True
    websocket, task = getattr(client, "_websocket", None), getattr(client, "_sender_task", None)
    if websocket is None or task is None:
        return
    log.warning("a browser fell %s messages behind: its socket is closed so that it reconnects",
                getattr(getattr(client, "_send_queue", None), "maxsize", "too many"))

    async def close() -> None:
        try:
            await websocket.close(code=TRY_AGAIN_LATER)
        except Exception:  # noqa: BLE001  (already closed: the browser is reconnecting or gone)
            pass

    task.get_loop().call_soon_threadsafe(lambda: asyncio.ensure_future(close()))


def install() -> bool:
    """Wrap Streamlit's Starlette session client (once: wrapping again does nothing); False where it is missing."""
    try:
        from streamlit.web.server.starlette.starlette_websocket import StarletteSessionClient
    except ImportError:  # another server (Tornado) or another Streamlit: nothing to do
        return False
    close_socket_when_overwhelmed(StarletteSessionClient)
    return True


__all__ = ["install", "close_socket_when_overwhelmed", "TRY_AGAIN_LATER"]
