"""Logging for `printscp serve`: one handler on the root logger, text or JSON lines.

One handler only, so no line is written twice (pynetdicom's debug_logger() would add a
second). pynetdicom's own INFO lines repeat what printscp logs per association, so it
speaks only at DEBUG. JSON lines carry the request context the handlers pass as `extra`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import warnings
from datetime import datetime

# Request context a log record may carry (logging's `extra`), in JSON output order.
CONTEXT_FIELDS = ("association", "peer", "calling_ae", "called_ae", "message_id", "operation", "sop_class",
                  "status", "error_comment", "job_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:  # a bug's traceback stays in one JSON line
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One record, one line. Control characters in a message (a peer's AE title with a newline
    or ESC sequences, NUL bytes in a UID it sent) are escaped: nothing a peer sends can forge
    a log line, move the cursor of a terminal, or make the log a binary file to grep."""

    def format(self, record: logging.LogRecord) -> str:
        return _CONTROL.sub(_escaped, super().format(record))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escaped(match: re.Match) -> str:
    return repr(match.group())[1:-1]  # \n, \x1b, \x00


class _NoPynetdicomTracebacks(logging.Filter):
    """pynetdicom logs the traceback of an exception in an event handler, including its own
    debug dumps (3.0.4: an N-GET without Attribute Identifier List); the line before already
    names the error, and a traceback must not reach an operator's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("pynetdicom"):
            record.exc_info, record.exc_text = None, None
        return True


class _OutgoingAtDebug(logging.Filter):
    """`printscp serve` opens associations only to forward films. When a destination is down
    or refuses, pynetdicom logs two or three ERROR lines per attempt from its requestor code
    (the connect, the A-ASSOCIATE-RJ); printscp's forwarding logs one WARNING with the reason
    and the next retry. Those requestor lines are DEBUG lines here: shown with -d only."""

    REQUESTOR_ONLY = frozenset({"connect", "_negotiate_as_requestor"})  # AssociationSocket, ACSE

    def __init__(self, debug: bool):
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if (record.levelno > logging.DEBUG and record.name.startswith("pynetdicom")
                and record.funcName in self.REQUESTOR_ONLY):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.debug
        return True


def _thread_exception(args: threading.ExceptHookArgs) -> None:
    """A thread that dies of an exception (pynetdicom 3.0.4's reactor does when the server shuts
    down while a connection has not yet sent its A-ASSOCIATE-RQ: Evt15 in Sta2) gets one log
    line instead of a traceback on standard error."""
    if args.exc_type is SystemExit:
        return
    log = logging.getLogger("printscp")
    name = args.thread.name if args.thread else "a thread"
    log.error("%s ended by %s: %s", name, args.exc_type.__name__, args.exc_value)


def configure(level: str = "INFO", log_file: str | None = None, log_format: str = "text") -> None:
    """Route every logger through one handler; raises OSError if log_file cannot be opened."""
    handler = logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname).1s %(name)s: %(message)s"))
    handler.addFilter(_NoPynetdicomTracebacks())
    handler.addFilter(_OutgoingAtDebug(level == "DEBUG"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    threading.excepthook = _thread_exception
    # pydicom reports a value it finds invalid twice: a log line (kept) and a Python warning that
    # would reach standard error as two raw lines outside the log's format
    warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom\.")
    pynetdicom = logging.getLogger("pynetdicom")
    for old in list(pynetdicom.handlers):
        if not isinstance(old, logging.NullHandler):
            pynetdicom.removeHandler(old)
    pynetdicom.setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
