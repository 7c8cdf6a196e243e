"""A server that accepts TCP connections on 127.0.0.1 and never answers.

The worst case for a client: the connection opens, the request is sent, and no byte ever
comes back. Tests use it to prove that a read fails within its configured bounds and names
the endpoint, instead of hanging.
"""

from __future__ import annotations

import socket
import threading


class SilentServer:
    """``with SilentServer() as url:`` — ``url`` is ``http://127.0.0.1:<free port>``."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        self.connections = 0
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)   # keep it open; never read, never write

    def __enter__(self) -> str:
        threading.Thread(target=self._accept, daemon=True, name="silent-server").start()
        return self.url

    def __exit__(self, *exc) -> None:
        self._closed.set()
        self._sock.close()
        for conn in self._held:
            conn.close()
