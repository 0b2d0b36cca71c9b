"""The console's HTTP rules over real TCP: loopback Host names only, a token when bound
beyond loopback, files only from the output folder, the control contract, the OpenAPI paths."""

from __future__ import annotations

import base64
import http.client
import json

import pytest

from printscp.control.server import Control
from printscp.faults import FaultPlan
from printscp.store import Store
from printscp.web.app import create_app
from printscp.web.server import WebServer

TOKEN = "s3cret-token"


@pytest.fixture
def console(printer, tmp_path):
    """console(token=None, loopback=True) -> port of a console over the module's printer."""
    started = []

    def start(token=None, loopback=True):
        store = Store(printer.output)
        web = WebServer(create_app(store, Control(printer.server), token=token, loopback=loopback), "127.0.0.1", 0)
        web.start()
        started.append((web, store))
        return web.port

    yield start
    for web, store in started:
        web.stop()
        store.close()
    printer.server.printer.set_status("NORMAL", "NORMAL")
    printer.server.load_faults(FaultPlan())


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={**({"Content-Type": "application/json"} if data else {}),
                                                      **(headers or {})})
        rsp = conn.getresponse()
        return rsp.status, rsp.read(), dict(rsp.getheaders())
    finally:
        conn.close()


def test_loopback_console_refuses_foreign_host_names(console):
    port = console()
    assert call(port, "GET", "/", headers={"Host": "attacker.example"})[0] == 403
    assert call(port, "GET", "/status", headers={"Host": "attacker.example:8080"})[0] == 403
    assert call(port, "GET", "/")[0] == 200


def test_a_token_is_required_beyond_loopback(console):
    port = console(token=TOKEN, loopback=False)
    status, _, headers = call(port, "GET", "/api/jobs")
    assert status == 401 and headers["www-authenticate"].startswith("Basic")
    assert call(port, "GET", "/api/jobs", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert call(port, "GET", "/api/jobs", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    basic = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    assert call(port, "GET", "/status", headers={"Authorization": f"Basic {basic}"})[0] == 200
    status, _, headers = call(port, "GET", f"/?token={TOKEN}")
    assert status == 200 and "printscp_token=" in headers["set-cookie"]
    assert call(port, "GET", "/", headers={"Cookie": f"printscp_token={TOKEN}"})[0] == 200


def test_files_come_from_the_output_folder_only(console, printer):
    port = console()
    for path in ("/files/../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd", "/files/printscp.sqlite",
                 "/files/nothing.png"):
        assert call(port, "GET", path)[0] == 404, path


def test_the_control_contract_on_the_console_port(console, printer):
    port = console()
    assert call(port, "POST", "/status", headers={"Content-Type": "text/plain"})[0] == 415
    status, body, _ = call(port, "POST", "/status", {"status": "WARNING", "info": "SUPPLY LOW", "printer": "PRINTSCP"})
    assert status == 200 and json.loads(body)["printers"]["PRINTSCP"] == {"status": "WARNING", "info": "SUPPLY LOW"}
    assert printer.server.printer.status == ("WARNING", "SUPPLY LOW")
    status, body, _ = call(port, "POST", "/faults", {"scenario": "film-jam"})
    assert status == 200 and json.loads(body)["source"].endswith("film-jam.toml")
    printers = json.loads(call(port, "GET", "/api/printers")[1])
    assert printers["faults"]["source"].endswith("film-jam.toml") and printers["printers"][0]["status"] == "WARNING"
    assert call(port, "POST", "/faults", {"scenario": "no-such"})[0] == 404
    assert json.loads(call(port, "DELETE", "/faults")[1])["rules"] == {}


def test_the_control_api_refuses_non_json_unknown_printers_and_broken_fault_files(console, printer):
    port = console()
    assert call(port, "POST", "/status", {"status": "NORMAL"}, headers={"Content-Type": "text/plain"})[0] == 415
    assert call(port, "GET", "/nothing")[0] == 404
    status, answer, _ = call(port, "POST", "/status", {"status": "FAILURE", "info": "COVER OPEN", "printer": "X"})
    assert status == 404 and "no printer 'X'" in json.loads(answer)["error"]
    status, answer, _ = call(port, "POST", "/faults", {"source": "x.toml", "text": "[[rule]]\nname = 1\n"})
    assert status == 400 and json.loads(answer)["error"].startswith("x.toml: [[rule]] #1: name")
    status, answer, _ = call(port, "GET", "/status")
    assert status == 200 and json.loads(answer) == {"printers": {"PRINTSCP": {"status": "NORMAL", "info": "NORMAL"}}}


def test_the_api_is_described_by_openapi(console):
    port = console()
    spec = json.loads(call(port, "GET", "/api/openapi.json")[1])
    for path in ("/api/jobs", "/api/jobs/{job_id}", "/api/associations", "/api/associations/{association_id}",
                 "/api/printers", "/status", "/faults"):
        assert path in spec["paths"], path
    assert call(port, "GET", "/api/jobs/nope")[0] == 404


def test_a_failing_page_answers_500_without_a_traceback(console, printer, caplog):
    port = console()
    folder = printer.output / "2026-01-01" / "odd-job"
    folder.mkdir(parents=True)
    (folder / "job.json").write_text(json.dumps({"job_id": "odd-job", "state": "DONE", "film_session": ["not", "a map"]}))
    store = Store(printer.output)
    try:
        store.index_job(folder)
    finally:
        store.close()
    status, body, _ = call(port, "GET", "/jobs/odd-job")
    assert status == 500 and b"error" in body
    assert call(port, "GET", "/")[0] == 200  # still serving
    assert "failed" in caplog.text and "Traceback" not in caplog.text


def raw_call(port, method, path, body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        rsp = conn.getresponse()
        return rsp.status, rsp.read()
    finally:
        conn.close()


def test_malformed_requests_get_4xx_or_nothing_not_500(console, printer):
    """Found by fuzzing (2026-11-30): each of these was a 500."""
    port = console()
    assert call(port, "GET", "/api/jobs?offset=99999999999999999999")[0] in (200, 422)
    status, body, _ = call(port, "GET", "/api/associations?offset=9223372036854775808")
    assert status in (200, 422)
    assert call(port, "GET", "/files/%00")[0] == 404
    assert call(port, "GET", "/files/" + "x" * 300 + ".png")[0] == 404
    status, answer, _ = call(port, "POST", "/status", {"status": "WARNING", "info": "SUPPLY LOW", "printer": ["PRINTSCP"]})
    assert status == 400 and '"printer" must be a string' in json.loads(answer)["error"]
    assert raw_call(port, "POST", "/status", b"[" * 100000 + b"]" * 100000)[0] == 400
    deep = {"source": "deep.toml", "text": "x = " + "[" * 2000 + "]" * 2000}
    status, answer, _ = call(port, "POST", "/faults", deep)
    assert status == 400 and "not valid TOML" in json.loads(answer)["error"]
    status, answer, _ = call(port, "POST", "/status", {"status": "NORMAL", "info": "FILM JAM"})
    assert status == 400 and "NORMAL goes with NORMAL only" in json.loads(answer)["error"]
    assert call(port, "GET", "/api/jobs?since=yesterday")[0] == 422  # the command line refuses it too
    assert call(port, "GET", "/api/jobs?since=2h")[0] == 200
