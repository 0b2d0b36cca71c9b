"""Runtime control: `printscp printer status` and `printscp faults load` as subprocesses
against a `printscp serve` subprocess on free loopback ports, and the endpoint itself.

Every process a test starts is ended at teardown by its own PID if still running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import associate, gray_pixels, status_of

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
PIXELS = gray_pixels(64, 64, 2000)


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    control: str
    output: Path
    stdout: Path
    stderr: Path


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "printscp", *args], cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def serve(tmp_path):
    """serve(*args, control_port=...) -> Served; a free DICOM port, control on a free port unless given."""
    started: list[Served] = []

    def start(*extra: str, control_port: int | None = -1) -> Served:
        n = len(started)
        port = free_port()
        control = free_port() if control_port == -1 else control_port
        output, stdout, stderr = tmp_path / f"out{n}", tmp_path / f"serve{n}.out", tmp_path / f"serve{n}.err"
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--output", str(output), *extra]
        if control is not None:
            args += ["--control-port", str(control)]
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "printscp", *args], cwd=tmp_path, env=_env(),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        http = next((int(v) for k, v in zip(extra, extra[1:]) if k == "--http-port"), None)
        served = Served(proc, port, f"127.0.0.1:{control if control is not None else http}", output, stdout, stderr)
        started.append(served)
        wait_for_port(port, STARTUP_TIMEOUT, proc, stderr)
        if control != 0:  # the endpoint starts right after the DICOM port; its line says when
            wait_for(lambda: "control endpoint" in stdout.read_text() or proc.poll() is not None,
                     timeout=STARTUP_TIMEOUT, what="the control endpoint line")
        return served

    yield start
    for served in started:
        if served.proc.poll() is None:
            served.proc.kill()  # this PID only


def printer_n_get(port: int, called_ae: str = "PRINTSCP") -> tuple[str, str]:
    with associate(port, called_ae=called_ae) as scu:
        status, ds = scu.get_printer()
        assert status_of(status) == 0
        return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


# ---- printer status ------------------------------------------------------------------------------

def test_show_and_set_the_printer_status_of_a_running_server(serve, tmp_path):
    server = serve()
    assert f"control endpoint on {server.control}" in server.stdout.read_text()
    shown = cli("printer", "status", "--control", server.control, cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.split() == ["PRINTSCP", "NORMAL", "NORMAL"]

    changed = cli("printer", "status", "--set", "FAILURE", "--info", "FILM JAM", "--control", server.control,
                  cwd=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.split() == ["PRINTSCP", "FAILURE", "FILM", "JAM"]
    assert printer_n_get(server.port) == ("FAILURE", "FILM JAM")
    assert "control: printer PRINTSCP status -> FAILURE (FILM JAM)" in server.stderr.read_text()

    back = cli("printer", "status", "--set", "NORMAL", "--control", server.control, cwd=tmp_path)
    assert back.returncode == 0 and printer_n_get(server.port) == ("NORMAL", "NORMAL")


def test_an_unknown_term_is_refused_with_exit_2_and_changes_nothing(serve, tmp_path):
    server = serve()
    for args in (["--set", "FAILURE", "--info", "PAPER JAM"], ["--set", "WARNING"], ["--info", "FILM JAM"],
                 ["--printer", "NO_SUCH"]):
        refused = cli("printer", "status", *args, "--control", server.control, cwd=tmp_path)
        assert refused.returncode == 2, args
        assert refused.stderr.startswith("printscp: ") and refused.stdout == ""
    assert "'PAPER JAM' is not a Defined Term of PS3.3 C.13.9.1" in \
        cli("printer", "status", "--set", "FAILURE", "--info", "PAPER JAM", "--control", server.control,
            cwd=tmp_path).stderr
    assert printer_n_get(server.port) == ("NORMAL", "NORMAL")


def test_an_unreachable_server_is_exit_3_with_a_clear_message(tmp_path):
    nobody = f"127.0.0.1:{free_port()}"
    for args in (["printer", "status"], ["faults", "show"], ["faults", "load", "film-jam"]):
        result = cli(*args, "--control", nobody, cwd=tmp_path)
        assert result.returncode == 3, args
        assert f"cannot reach printscp's control endpoint at {nobody}" in result.stderr


def test_one_printer_of_several(serve, tmp_path):
    server = serve("--printer", "CT_FILM=default", "--printer", "US_PAPER=ultrasound")
    result = cli("printer", "status", "--set", "WARNING", "--info", "LOW 8X10 PAPR", "--printer", "US_PAPER",
                 "--control", server.control, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [["CT_FILM", "NORMAL"], ["US_PAPER", "WARNING"]]
    assert printer_n_get(server.port, "US_PAPER") == ("WARNING", "LOW 8X10 PAPR")
    assert printer_n_get(server.port, "CT_FILM") == ("NORMAL", "NORMAL")
    shown = cli("printer", "status", "--printer", "CT_FILM", "--control", server.control, cwd=tmp_path)
    assert shown.stdout.split() == ["CT_FILM", "NORMAL", "NORMAL"]


# ---- fault files ---------------------------------------------------------------------------------

def print_once(port: int) -> int:
    with associate(port) as scu:
        return scu.print_film([PIXELS], r"STANDARD\1,1")["print"]


def test_serve_with_faults_then_load_another_file_without_restart(serve, tmp_path):
    server = serve("--faults", "c602-film-box-queue-full")
    assert "fault file" in server.stdout.read_text() and "c602-film-box-queue-full.toml" in server.stdout.read_text()
    assert print_once(server.port) == 0xC602
    assert print_once(server.port) == 0

    shown = cli("faults", "show", "--control", server.control, cwd=tmp_path)
    assert "rule 'C602 on the first film box print': matched 2, fired 1" in shown.stdout

    own = tmp_path / "b603.toml"
    own.write_text('[[rule]]\nname = "mine"\noperation = "N-ACTION"\nstatus = 0xB603\n')
    loaded = cli("faults", "load", str(own), "--control", server.control, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert f"fault file: {own}" in loaded.stdout and "rule 'mine': matched 0, fired 0" in loaded.stdout
    assert print_once(server.port) == 0xB603
    assert server.proc.poll() is None  # the same process throughout

    shipped = cli("faults", "load", "c602-film-box-queue-full", "--control", server.control, cwd=tmp_path)
    assert shipped.returncode == 0
    assert print_once(server.port) == 0xC602  # counters start again: nth = 1 fires again

    cleared = cli("faults", "clear", "--control", server.control, cwd=tmp_path)
    assert cleared.returncode == 0 and print_once(server.port) == 0


def test_a_broken_fault_file_is_refused_and_the_old_rules_stay(serve, tmp_path):
    server = serve("--faults", "c613-combined-image-too-large")
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rule]]\nname = "jam"\noperation = "N-ACTION"\nprinter_status = ["FAILURE", "PAPER JAM"]\n')
    result = cli("faults", "load", str(broken), "--control", server.control, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{broken}: [[rule]] 'jam' printer_status: 'PAPER JAM' is not a Defined Term" in result.stderr
    assert print_once(server.port) == 0xC613
    missing = cli("faults", "load", "no-such-scenario", "--control", server.control, cwd=tmp_path)
    assert missing.returncode == 2 and "no such fault file" in missing.stderr


def test_serve_refuses_a_broken_fault_file_at_start(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rule]]\nname = "x"\nnth = 0\nstatus = 0xC602\n')
    result = cli("serve", "--port", str(free_port()), "--faults", str(broken), cwd=tmp_path)
    assert result.returncode == 2 and f"{broken}: [[rule]] 'x' nth: expected an integer of at least 1" in result.stderr


def test_faults_check_and_list(tmp_path):
    listed = cli("faults", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "film-jam" in listed.stdout and "c602-film-box-queue-full" in listed.stdout
    checked = cli("faults", "check", str(REPO / "faults" / "film-jam.toml"), cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith("ok: ")


def test_the_web_console_port_is_the_control_endpoint_and_0_turns_it_off(serve, tmp_path):
    port = free_port()
    server = serve("--http-port", str(port), control_port=None)
    assert f"control endpoint on 127.0.0.1:{port}; web console http://127.0.0.1:{port}/" in server.stdout.read_text()
    assert cli("printer", "status", "--control", f"127.0.0.1:{port}", cwd=tmp_path).returncode == 0
    off = serve(control_port=0)
    assert "control endpoint" not in off.stdout.read_text()


def test_a_job_failed_by_a_loaded_fault_says_so(serve, tmp_path):
    server = serve()
    assert cli("faults", "load", "film-jam", "--control", server.control, cwd=tmp_path).returncode == 0
    assert print_once(server.port) == 0
    job_file = wait_for(lambda: next(server.output.glob("[0-9]*/*/job.json"), None), what="the job")
    job = json.loads(job_file.read_text())
    assert job["state"] == "FAILURE" and job["failed_by_rule"] == "film jam on the first print"
    assert printer_n_get(server.port) == ("FAILURE", "FILM JAM")
    assert "fault rule film jam on the first print fired" in server.stderr.read_text()
