"""The `printscp` command line, run as real subprocesses (`python -m printscp ...`).

Servers listen on 127.0.0.1 at a port chosen by free_port(); every wait polls with a
deadline.  Each process a test starts is ended at teardown by its own PID if it is
still running (and no other process is touched).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from pynetdicom import AE

from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import FILM_BOX, VERIFICATION, associate, gray_pixels, image_item, status_of

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0  # a cold interpreter importing pynetdicom, numpy and Pillow
EXIT_TIMEOUT = 60.0  # SIGTERM -> exit, including draining one big job


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    output: Path
    stdout: Path
    stderr: Path

    def out(self) -> str:
        return self.stdout.read_text(errors="replace")

    def err(self) -> str:
        return self.stderr.read_text(errors="replace")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def run_cli(*args: str, cwd: Path, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run `python -m printscp ARGS` to completion (for commands that exit by themselves)."""
    return subprocess.run([sys.executable, "-m", "printscp", *args], cwd=cwd, env=_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def serve(tmp_path):
    """serve(*extra_args) -> Server listening on a free port; killed by PID at teardown if still alive."""
    servers: list[Server] = []

    def start(*extra: str) -> Server:
        n = len(servers)
        port = free_port()
        output = tmp_path / f"output{n}"
        stdout, stderr = tmp_path / f"serve{n}.out", tmp_path / f"serve{n}.err"
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--output", str(output), *extra],
                cwd=tmp_path, env=_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            )
        server = Server(proc, port, output, stdout, stderr)
        servers.append(server)
        wait_for_port(port, STARTUP_TIMEOUT, proc, stderr)
        return server

    yield start
    for server in servers:
        if server.proc.poll() is None:
            server.proc.kill()  # SIGKILL to this PID only
            server.proc.wait(timeout=30)


def terminate(server: Server) -> int:
    """SIGTERM the server (by PID) and return its exit status, which must come within a deadline."""
    server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"printscp pid {server.proc.pid} still running {EXIT_TIMEOUT} s after SIGTERM\n"
                             f"{server.err()}") from None


# --------------------------------------------------------------------------- serve


def test_serve_listens_answers_echo_and_stops_on_sigterm(serve):
    server = serve()
    line = wait_for(lambda: next((l for l in server.out().splitlines() if "listening on port" in l), None),
                    timeout=STARTUP_TIMEOUT, what="the 'listening on port' line")
    assert f"listening on port {server.port} " in line + " "

    ae = AE(ae_title="ECHOSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    ae.add_requested_context(VERIFICATION)
    assoc = ae.associate("127.0.0.1", server.port, ae_title="PRINTSCP")
    try:
        assert assoc.is_established
        status = assoc.send_c_echo()
        assert status is not None and "Status" in status, "no C-ECHO response"
        assert int(status.Status) == 0x0000
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()

    assert terminate(server) == 0, server.err()
    assert "Traceback" not in server.err()


def test_sigterm_finishes_the_queued_jobs_before_exiting(serve):
    server = serve()
    images = [gray_pixels(1024, 1024, 150 * k + 100) for k in range(20)]  # 20 x 2 MB, 12 bit
    with associate(server.port) as scu:
        (fs_result, _), fs_uid = scu.create_film_session()
        assert status_of(fs_result) == 0x0000
        # Job 1: a big 4,5 film, about a second of rendering for the single spool worker.
        fb_result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\4,5")
        assert status_of(fb_result) == 0x0000
        box_uids = scu.image_box_uids(fb_result)
        assert len(box_uids) == 20
        for position, (uid, pixels) in enumerate(zip(box_uids, images), start=1):
            assert status_of(scu.set_image_box(uid, position, image_item(pixels))) == 0x0000
        assert status_of(scu.print_film_box(fb_uid)) == 0x0000
        assert status_of(scu.delete(FILM_BOX, fb_uid)) == 0x0000
        # Job 2: a small film queued behind job 1.
        fb_result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1")
        assert status_of(fb_result) == 0x0000
        (uid,) = scu.image_box_uids(fb_result)
        assert status_of(scu.set_image_box(uid, 1, image_item(gray_pixels(64, 64, 2000)))) == 0x0000
        action = scu.print_film_box(fb_uid)
        # SIGTERM right after the N-ACTION response, with the association still open.  Job 1
        # normally is still rendering and job 2 waiting in the queue; if the machine was fast
        # enough to finish them already, the checks below still hold (DONE records, nothing
        # left in staging), they just test less.
        server.proc.send_signal(signal.SIGTERM)
        assert status_of(action) == 0x0000
    # (the stopping server may already have ended the association; that is allowed)

    try:
        code = server.proc.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"printscp did not exit within {EXIT_TIMEOUT} s of SIGTERM\n{server.err()}") from None
    assert code == 0, server.err()

    folders = sorted(p.parent for p in server.output.glob("*/*/job.json") if not p.parent.parent.name.startswith("."))
    assert len(folders) == 2, folders
    expected = [("STANDARD\\4,5", 20), ("STANDARD\\1,1", 1)]
    for folder, (display_format, boxes) in zip(folders, expected):
        job = json.loads((folder / "job.json").read_text())
        assert job["state"] == "DONE", job
        assert job["calling_ae"] == "TESTSCU"
        assert job["films"][0]["attributes"]["ImageDisplayFormat"] == display_format
        assert len(job["films"][0]["image_boxes"]) == boxes
        with Image.open(folder / "film-001.png") as film:
            assert film.size == (4200, 5100)  # 14INX17IN at 300 dpi, the default film
        pdf = (folder / "job.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:]
    incoming = server.output / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir()), list(incoming.rglob("*"))


# --------------------------------------------------------------------------- profiles


def test_profile_with_unknown_key_exits_2_naming_file_and_key(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[film_box]\nfilm_sizez = ["A4"]\n')
    done = run_cli("serve", "--host", "127.0.0.1", "--port", str(free_port()), "--output", str(tmp_path / "out"),
                   "--profile", str(broken), cwd=tmp_path)
    assert done.returncode == 2, done
    assert str(broken) in done.stderr
    assert "film_sizez" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening" not in done.stdout


def test_unknown_profile_name_exits_2_naming_it(tmp_path):
    done = run_cli("serve", "--host", "127.0.0.1", "--port", str(free_port()), "--output", str(tmp_path / "out"),
                   "--profile", "nosuchprofile", cwd=tmp_path)
    assert done.returncode == 2, done
    assert "nosuchprofile" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening" not in done.stdout


# --------------------------------------------------------------------------- help


def test_serve_help_lists_the_options(tmp_path):
    done = run_cli("serve", "--help", cwd=tmp_path)
    assert done.returncode == 0, done
    words = set(done.stdout.replace(",", " ").split())
    for option in ("--port", "--host", "--ae-title", "--output", "--profile", "-v", "-d"):
        assert option in words, f"{option} missing from serve --help:\n{done.stdout}"


def _render_processes(marker: Path) -> list[int]:
    """The render pool's forkserver and workers of a server started in `marker` (its cwd is in their command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "multiprocessing.forkserver" in cmdline and str(marker) in cmdline:
            found.append(int(proc.name))
    return found


def test_a_killed_server_leaves_no_render_processes_behind(serve, tmp_path):
    server = serve("--render-workers", "2", "--http-port", "0")
    with associate(server.port) as scu:
        assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0
    wait_for(lambda: list(server.output.glob("[0-9]*/*/job.json")), 60, what="the job")
    assert _render_processes(tmp_path), "the film was rendered in worker processes"
    server.proc.kill()  # SIGKILL: no chance to shut the pool down
    server.proc.wait(timeout=30)
    wait_for(lambda: not _render_processes(tmp_path), 15, what="the orphaned render processes to end")
