"""A job's forwarding state, per destination, in `printscp jobs show`, the console's job page and /api/jobs/{id};
and `printscp jobs resend`. Against a real Orthanc, a real `printscp serve` and headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from conftest import wait_for
from dcmtk import free_port
from orthanc import Orthanc
from printscp.forward import state
from scu import associate, gray_pixels
from test_cli import run_cli, serve, terminate  # noqa: F401  (serve is a fixture)

CHROMIUM = "/usr/bin/chromium"


def forwarding(output: Path) -> list[dict]:
    folders = sorted(p.parent for p in output.glob("[0-9]*/*/job.json"))
    return state.for_job(output, folders[-1].relative_to(output).as_posix()) if folders else []


def show(output: Path, job: str, *extra: str, cwd) -> dict:
    done = run_cli("jobs", "show", job, "--json", "--output", str(output), *extra, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_forwarding_state_is_shown_per_job_from_pending_to_delivered(serve, tmp_path):
    archive = Orthanc(tmp_path / "orthanc")  # down at first
    cfg = tmp_path / "serve.toml"
    cfg.write_text(f'[[forward]]\ndestination = "{archive.destination}"\ndpi = 75\nretry_initial_s = 0.3\n'
                   'retry_max_s = 0.6\ntimeout_s = 2\n')
    http = free_port()
    server = serve("--config", str(cfg), "--http-port", str(http))
    wait_for(lambda: "web console" in server.out() or server.proc.poll() is not None, 30, what="the console")
    try:
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 800)], r"STANDARD\1,1")["print"] == 0
        wait_for(lambda: (f := forwarding(server.output)) and f[0]["failed_attempts"] >= 1, 30,
                 what="a failed attempt")
        job_id = next(server.output.glob("[0-9]*/*/job.json")).parent.name[:20]

        pending = show(server.output, job_id, cwd=tmp_path)["forwarding"]
        assert [(f["destination"], f["state"]) for f in pending] == [(archive.destination, "pending")]
        assert pending[0]["last_attempt"]["kind"] == "network" and not pending[0]["last_attempt"]["ok"]
        text = run_cli("jobs", "show", job_id, "--output", str(server.output), cwd=tmp_path).stdout
        assert f"-> {archive.destination}: pending" in text and "could not be reached" in text

        archive.start()
        wait_for(lambda: forwarding(server.output)[0]["state"] == "delivered", 30, what="the delivery")
        delivered = show(server.output, job_id[-4:], cwd=tmp_path)["forwarding"][0]  # a unique end will do
        assert delivered["state"] == "delivered" and delivered["last_attempt"]["ok"] is True
        assert delivered["attempts"] == delivered["failed_attempts"] + 1 and delivered["delivered"]
        assert delivered["last_attempt"]["result"] == "1 instance(s) stored"

        web = httpx.Client(base_url=f"http://127.0.0.1:{http}", timeout=10)
        api = web.get(f"/api/jobs/{job_id}").json()
        assert [(f["destination"], f["state"]) for f in api["forwarding"]] == [(archive.destination, "delivered")]
        page = web.get(f"/jobs/{job_id}")
        assert page.status_code == 200 and "Forwarded" in page.text and "1 instance(s) stored" in page.text
        assert "→ delivered" in web.get("/").text  # the job list says it too
        listing = run_cli("jobs", "list", "--output", str(server.output), cwd=tmp_path).stdout.splitlines()
        assert listing[0].split()[-2:] == ["FORWARDED", "LABEL"] and listing[1].split()[-1] == "delivered"
        rows = json.loads(run_cli("jobs", "list", "--json", "--output", str(server.output), cwd=tmp_path).stdout)
        assert [f["state"] for f in rows[0]["forwarding"]] == ["delivered"]

        assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                tab = browser.new_page()
                tab.goto(f"http://127.0.0.1:{http}/jobs/{job_id}")
                row = tab.locator(f'tr.forward[data-destination="{archive.destination}"]')
                assert row.locator(".state").inner_text() == "delivered"
                assert "success" in row.get_attribute("class")
            finally:
                browser.close()

        # jobs resend: the same UIDs again, so the archive keeps one instance; the attempt is on record
        ids = archive.instances()
        again = run_cli("jobs", "resend", job_id[-4:], "--output", str(server.output), cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert f"{job_id} -> {archive.destination}: 1 instance(s) stored" in again.stdout
        assert archive.instances() == ids
        assert show(server.output, job_id, cwd=tmp_path)["forwarding"][0]["attempts"] == delivered["attempts"] + 1

        nobody = f"NOBODY@127.0.0.1:{free_port()}"  # a second destination, down: each has its own state
        down = run_cli("jobs", "resend", job_id, "--to", nobody, "--output", str(server.output), cwd=tmp_path)
        assert down.returncode == 3 and "could not be reached" in down.stdout
        both = {f["destination"]: f for f in show(server.output, job_id, cwd=tmp_path)["forwarding"]}
        assert both[archive.destination]["state"] == "delivered"
        assert both[nobody]["state"] == "pending" and both[nobody]["last_attempt"]["kind"] == "network"
        assert terminate(server) == 0

        stopped = show(server.output, job_id, cwd=tmp_path)["forwarding"]  # the server is gone: files answer
        assert {f["destination"]: f["state"] for f in stopped} == {archive.destination: "delivered", nobody: "pending"}
    finally:
        archive.stop()
    assert "Traceback" not in server.err()


def test_a_job_never_forwarded_shows_no_forwarding_and_resend_says_how(serve, tmp_path):
    server = serve("--http-port", "0")
    with associate(server.port) as scu:
        assert scu.print_film([gray_pixels(32, 32, 500)], r"STANDARD\1,1")["print"] == 0
    job = wait_for(lambda: next(server.output.glob("[0-9]*/*/job.json"), None), 30, what="the job").parent
    assert show(server.output, job.name, cwd=tmp_path)["forwarding"] == []
    assert "FORWARDED" not in run_cli("jobs", "list", "--output", str(server.output), cwd=tmp_path).stdout
    assert not (server.output / ".outbox").exists()  # reading never creates the outbox
    done = run_cli("jobs", "resend", job.name, "--output", str(server.output), cwd=tmp_path)
    assert done.returncode == 2 and "--to AET@HOST:PORT" in done.stderr
    unknown = run_cli("jobs", "resend", "20990101-000000-0042", "--output", str(server.output), cwd=tmp_path)
    assert unknown.returncode == 2 and "no job" in unknown.stderr
    assert terminate(server) == 0
