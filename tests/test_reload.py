"""SIGHUP reloads the profiles and the fault file of a running `printscp serve`; a file with
errors is refused with one log line and the running configuration stays."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import associate

REPO = Path(__file__).resolve().parent.parent
PROFILE = (REPO / "layouts" / "default.toml").read_text()


def printer_name(port: int) -> str:
    with associate(port) as scu:
        _status, ds = scu.get_printer()
        return str(ds.PrinterName)


def test_sighup_reloads_the_profile_and_keeps_serving_when_the_new_one_is_broken(tmp_path):
    profile = tmp_path / "mine.toml"
    profile.write_text(PROFILE.replace('printer_name = "', 'printer_name = "ONE-', 1))
    assert 'printer_name = "ONE-' in profile.read_text()
    port, err = free_port(), tmp_path / "serve.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--control-port", "0", "-od", str(tmp_path / "out"), "--profile", str(profile)],
                                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for_port(port, 30, proc, err)
        assert printer_name(port).startswith("ONE-")

        profile.write_text(PROFILE.replace('printer_name = "', 'printer_name = "TWO-', 1))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: reloaded profiles (PRINTSCP)" in err.read_text(), timeout=30, what="the reload")
        assert printer_name(port).startswith("TWO-")

        profile.write_text(PROFILE + "\n[film_box]\nmax_rowz = 1\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP: not reloaded" in err.read_text(), timeout=30, what="the refusal")
        assert printer_name(port).startswith("TWO-") and proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    log = err.read_text()
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if "SIGHUP: not reloaded" in line]) == 1


def test_sighup_reloads_the_fault_file(tmp_path):
    faults = tmp_path / "mine.toml"
    jam = (REPO / "faults" / "film-jam.toml").read_text()
    faults.write_text(jam)
    port, control, err = free_port(), free_port(), tmp_path / "serve.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--control-port", str(control), "-od", str(tmp_path / "out"), "--faults", str(faults)],
                                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)

    def shown() -> str:
        return subprocess.run([sys.executable, "-m", "printscp", "faults", "show", "--control", f"127.0.0.1:{control}"],
                              env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                              timeout=60, check=True).stdout

    try:
        wait_for_port(port, 30, proc, err)
        wait_for_port(control, 30, proc, err)
        assert "film jam on the first print" in shown()
        faults.write_text(jam.replace("film jam on the first print", "jam after reload"))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: f"and fault file {faults}" in err.read_text(), timeout=30, what="the reload line")
        text = shown()
        assert "jam after reload" in text and "film jam on the first print" not in text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
