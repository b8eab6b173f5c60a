"""ui.overwhelmed: when Streamlit gives up on a browser whose message queue is full, its socket is closed too, so
the browser reconnects to its session instead of freezing with an open socket that nothing is sent to."""
from __future__ import annotations

import asyncio
import threading

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.session_manager import SessionClientDisconnectedError
from streamlit.web.server.starlette import starlette_websocket

from ui import overwhelmed


class StuckSocket:
    """A browser that reads nothing: every send waits for ever; close() is recorded."""

    def __init__(self):
        self.closed_with = []

    async def send_bytes(self, payload: bytes) -> None:
        await asyncio.Event().wait()

    async def close(self, code: int = 1000) -> None:
        self.closed_with.append(code)


def client_for(websocket, queue: int):
    """Streamlit's own client class (a copy of it, so the test's wrapping stays in the test), on a small queue.

    The copy holds Streamlit's own write_forward_msg even where an app run earlier in this process installed the
    wrapper on Streamlit's class."""
    base = starlette_websocket.StarletteSessionClient
    own = getattr(base.write_forward_msg, "__wrapped__", base.write_forward_msg)
    cls = type("Client", (base,), {"write_forward_msg": own})
    client = cls.__new__(cls)
    client._websocket = websocket
    client._send_queue = asyncio.Queue(maxsize=queue)
    client._closed = asyncio.Event()
    client._sender_task = asyncio.get_running_loop().create_task(client._sender())
    return cls, client


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_browser_streamlit_gives_up_on_gets_its_socket_closed_and_reconnects(wrapped):
    async def scenario():
        socket = StuckSocket()
        cls, client = client_for(socket, queue=3)
        if wrapped:
            overwhelmed.close_socket_when_overwhelmed(cls)
            overwhelmed.close_socket_when_overwhelmed(cls)  # installing twice wraps once
            assert cls.write_forward_msg.closes_socket
        for _ in range(4):  # one in the (stuck) sender, three queued
            client.write_forward_msg(ForwardMsg())
            await asyncio.sleep(0)
        with pytest.raises(SessionClientDisconnectedError):  # full: Streamlit gives up on this client
            client.write_forward_msg(ForwardMsg())
        for _ in range(5):
            await asyncio.sleep(0)
        client._sender_task.cancel()
        return socket.closed_with

    closed = []  # in a thread of its own: an earlier test's sync Playwright may have left this thread a running loop
    worker = threading.Thread(target=lambda: closed.extend(asyncio.run(scenario())))
    worker.start()
    worker.join(30)
    # Streamlit alone leaves the socket open (the browser would freeze); wrapped, it is closed: the browser reconnects
    assert closed == ([overwhelmed.TRY_AGAIN_LATER] if wrapped else [])


def test_it_is_installed_on_streamlits_client_once_per_process():
    assert overwhelmed.install() and overwhelmed.install()
    assert starlette_websocket.StarletteSessionClient.write_forward_msg.closes_socket
