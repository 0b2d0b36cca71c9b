"""Logs of `printscp serve` as a person and a log tool read them: JSON lines with the request
context, one line per association open/close and per finished job, nothing written twice.

The server runs as a real subprocess; a pynetdicom SCU prints over TCP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path


from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import FILM_SESSION, associate, comment_of, gray_pixels, status_of

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
REQUEST_FIELDS = ("association", "peer", "calling_ae", "called_ae", "message_id", "operation", "sop_class", "status")


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    err = tmp_path / "serve.err"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--control-port", "0", "-od", str(tmp_path / "out"), *args], cwd=tmp_path,
                                env=environment, stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL)
    wait_for_port(port, STARTUP_TIMEOUT, proc, err)
    return proc, port, err


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0


def one_print_and_one_refusal(port: int) -> tuple[int, str]:
    """A film that prints, then a Film Box the printer refuses; returns the refusal's status and comment."""
    with associate(port) as scu:
        statuses = scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")
        assert statuses["print"] == 0x0000, statuses
        (fs, _), fs_uid = scu.create_film_session()
        bad, _ = scu.create_film_box(fs_uid, r"STANDARD\40,40")
        assert status_of(scu.delete(FILM_SESSION, fs_uid)) == 0x0000
        return status_of(bad), comment_of(bad)


def test_json_lines_carry_the_request_context_and_one_line_per_association_and_job(tmp_path):
    log_file = tmp_path / "printscp.jsonl"
    proc, port, err = start(tmp_path, "--log-format", "json", "--log-file", str(log_file))
    try:
        status, comment = one_print_and_one_refusal(port)
        assert status == 0x0106 and comment, (hex(status), comment)  # Invalid attribute value
        wait_for(lambda: " DONE: " in log_file.read_text(), timeout=60, what="the finished-job line")
    finally:
        stop(proc)
    assert err.read_text() == "", "with --log-file nothing may go to standard error"
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert all(r["time"][-6] in "+-" for r in records), "times carry their UTC offset"

    opened = [r for r in records if " opened by " in r["message"]]
    assert len(opened) == 1, opened
    (o,) = opened
    assert o["level"] == "INFO" and o["calling_ae"] == "TESTSCU" and o["called_ae"] == "PRINTSCP"
    assert o["peer"].startswith("127.0.0.1:") and o["peer"] in o["message"]
    assert o["message"].endswith("accepted: Basic Grayscale Print Management Meta")

    requests = [r for r in records if "operation" in r]
    assert {r["operation"] for r in requests} >= {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"}
    for r in requests:
        assert all(r.get(name) not in (None, "") for name in REQUEST_FIELDS), r
        assert r["association"] == o["association"] and r["peer"] == o["peer"]
    (refused,) = [r for r in requests if r["status"] == f"{status:04X}"]
    assert refused["operation"] == "N-CREATE" and refused["sop_class"] == "Basic Film Box"
    # the log keeps the whole comment; the Error Comment (LO) is cut to 64 characters, "\\" sent as "/"
    assert refused["error_comment"].replace("\\", "/").startswith(comment.removesuffix("..."))
    assert refused["level"] == "WARNING"

    (closed,) = [r for r in records if r["message"].startswith(f"association {o['association']} released")]
    assert f"{len(requests)} request(s) served" in closed["message"], (closed, len(requests))
    assert f"{status:04X} x1" in closed["message"] and "1 job(s) queued" in closed["message"]
    (done,) = [r for r in records if r["logger"] == "printscp.spool" and " DONE: " in r["message"]]
    assert done["job_id"] in done["message"] and done["calling_ae"] == "TESTSCU" and done["peer"] == o["peer"]
    # the log's association id is the one the job and the association record carry
    manifest = json.loads(next((tmp_path / "out").glob("*/*/job.json")).read_text())
    assert manifest["association"]["id"] == o["association"]


def test_debug_logs_every_line_once(tmp_path):
    proc, port, err = start(tmp_path, "-d")
    try:
        with associate(port) as scu:
            assert scu.get_printer().__class__  # one N-GET on the association
    finally:
        stop(proc)
    text = err.read_text()
    assert text.count("Accepting Association") == 1, text  # pynetdicom's own line, not doubled
    opened = re.findall(r"association (\S+) opened by", text)
    assert len(opened) == 1, text
    assert text.count(f"association {opened[0]} released") == 1, text
    assert "Traceback" not in text


def test_quiet_prints_no_start_up_lines_and_default_prints_each_once(tmp_path):
    proc, port, err = start(tmp_path, "-v")
    stop(proc)
    proc2, port2, err2 = start(tmp_path / "q" if (tmp_path / "q").mkdir() is None else tmp_path, "-q")
    stop(proc2)
    assert "listening" not in err.read_text(), "the start-up banner goes to stdout once, not also to the log"
    quiet = err2.read_text()
    # -q: no INFO lines. (pynetdicom 3.0.4 may log an ERROR when it is shut down while the
    # port probe's connection has not yet associated; it must come as lines, not a traceback.)
    assert all(" I " not in line and " D " not in line for line in quiet.splitlines()), quiet
    assert "Traceback" not in quiet and "signal SIGTERM" not in quiet


def test_a_forwarding_destination_that_is_down_gives_one_warning_per_attempt_and_no_pynetdicom_errors(tmp_path):
    closed = free_port()  # nothing listens there: every attempt is refused
    proc, port, err = start(tmp_path, "--forward", f"ARCHIVE@127.0.0.1:{closed}")
    try:
        with associate(port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0x0000
        wait_for(lambda: "ARCHIVE@127.0.0.1" in err.read_text() and "retry in" in err.read_text(), 30,
                 what="forwarding's own warning about the refused attempt")
    finally:
        stop(proc)
    lines = err.read_text().splitlines()
    assert not [line for line in lines if " E pynetdicom" in line], "\n".join(lines)
    assert any(" W printscp.forward" in line and "could not be reached" in line for line in lines)
