"""`printscp serve`'s HTTP side: the options, the job store and the console on one port.

The console also answers the control endpoint's /status and /faults, so `printscp printer
status` and `printscp faults ...` talk to it (one HTTP server, not two).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from printscp.store import Store
from printscp.store.feed import StoreFeed

DEFAULT_HTTP_PORT = 8080
LOOPBACK = "127.0.0.1"
TOKEN_ENV = "PRINTSCP_HTTP_TOKEN"


def add_options(serve: argparse.ArgumentParser) -> None:
    from printscp import argtypes

    serve.add_argument("--http-port", type=argtypes.port, metavar="PORT",
                       help=f"web console, JSON API and control endpoint (default {DEFAULT_HTTP_PORT}; 0: none)")
    serve.add_argument("--http-host", metavar="ADDRESS",
                       help=f"address of the web console (default {LOOPBACK}); any other requires a token")
    serve.add_argument("--http-token", metavar="TOKEN",
                       help=f"the console's token (default: ${TOKEN_ENV}, or a new one printed at start when "
                            "--http-host is not loopback)")
    serve.add_argument("--control-port", type=argtypes.port, metavar="PORT", help="the same as --http-port (older name)")


@dataclass
class Console:
    store: Store
    feed: StoreFeed
    web: object | None = None

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop()

    def close_store(self) -> None:
        self.feed.close()
        self.store.close()


def open_store(output) -> Console:
    store = Store(output)
    return Console(store, StoreFeed(store))


def start(console: Console, server, args: argparse.Namespace) -> bool:
    """Start the console for a running PrintServer; False when an explicitly asked port cannot be bound."""
    from printscp.control.server import Control
    from printscp.web.app import create_app, new_token
    from printscp.web.server import WebServer

    explicit = args.http_port is not None or args.control_port is not None
    port = args.http_port if args.http_port is not None else args.control_port
    port = DEFAULT_HTTP_PORT if port is None else port
    if not port:
        return True
    loopback = args.http_host in ("127.0.0.1", "localhost", "::1")
    token = args.http_token or os.environ.get(TOKEN_ENV) or (None if loopback else new_token())
    app = create_app(console.store, Control(server), token=token, loopback=loopback)
    try:
        console.web = WebServer(app, args.http_host, port)
        console.web.start()
    except OSError as exc:
        print(f"printscp: web console not started on {args.http_host}:{port}: {exc.strerror or exc}"
              + ("" if explicit else " (choose a port with --http-port, or 0 for none)"), file=sys.stderr, flush=True)
        console.web = None
        return not explicit
    host = f"[{args.http_host}]" if ":" in args.http_host else args.http_host
    print(f"printscp: control endpoint on {host}:{console.web.port}; web console http://{host}:{console.web.port}/"
          + (f"?token={token}" if token and not args.http_token and not os.environ.get(TOKEN_ENV) else "")
          + (f", fault file {server.faults.plan.source}" if args.faults else ""), flush=True)
    return True
