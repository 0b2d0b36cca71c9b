"""Runs the console under uvicorn on a thread of its own, on a socket bound here so that
a busy port is an OSError for the caller, not an exit from inside uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

log = logging.getLogger("printscp.web")

IDLE_TIMEOUT_S = 5  # an idle keep-alive connection is closed after this


class WebServer:
    def __init__(self, app, host: str, port: int):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only then, and without it
        # every keep-alive answer waits ~40 ms for a delayed ACK (Nagle)
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.host = host
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_keep_alive=IDLE_TIMEOUT_S, limit_concurrency=200)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def start(self, timeout: float = 20.0) -> None:
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the web console did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        log.info("web console on http://%s:%d/", self.host, self.port)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
