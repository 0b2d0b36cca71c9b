"""Command-line values checked where argparse reads them, for every command: a mistake is one
line that names the option, the value and what to use, with exit code 2 (usage)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from printscp import serve_options

USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line naming the fix (argparse would print the whole usage first)."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def checked(check: Callable[[Any], Any]) -> Callable[[str], Any]:
    """An argparse type from one of serve_options' checks (ValueError -> the option's one line)."""
    def parse(text: str):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None
    parse.__name__ = check.__name__
    return parse


def _peer_port(value) -> int:
    try:
        port = serve_options.port_value(value)
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("must be the printer's TCP port, 1..65535")
    return port


def _dpi(value) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 50 <= number <= 1200:
        raise ValueError("must be a resolution of 50..1200 dots per inch")
    return number


port = checked(serve_options.port_value)  # to listen on: 0 is any free port
peer_port = checked(_peer_port)  # to connect to
seconds = checked(serve_options.seconds_value)
max_pdu = checked(serve_options.max_pdu_value)
ae_title = checked(serve_options.ae_title_value)
dpi = checked(_dpi)
