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


def test_sighup_names_the_changes_that_need_a_restart(tmp_path):
    """Forwarding, timeouts and the set of AE titles are read at start only: a SIGHUP after
    editing them says so in one WARNING line instead of ignoring the edit."""
    config = tmp_path / "serve.toml"
    port, err = free_port(), tmp_path / "serve.err"
    first = f'port = {port}\nhost = "127.0.0.1"\n[[printer]]\nae_title = "FIRST"\nprofile = "default"\n'
    config.write_text(first)
    with open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--config", str(config), "--control-port", "0",
                                 "-od", str(tmp_path / "out")],
                                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for_port(port, 30, proc, err)
        proc.send_signal(signal.SIGHUP)  # nothing edited: nothing to restart for
        wait_for(lambda: "SIGHUP: reloaded profiles" in err.read_text(), timeout=30, what="the first reload")
        assert "restart" not in err.read_text()

        config.write_text(first.replace(f"port = {port}\n", f"port = {port}\ndimse_timeout = 12\n")
                          + '[[printer]]\nae_title = "SECOND"\nprofile = "default"\n'
                          + '[[forward]]\ndestination = "ARCHIVE@127.0.0.1:4242"\n')
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "not applied until a restart" in err.read_text(), timeout=30, what="the warning")
        line = next(line for line in err.read_text().splitlines() if "not applied until a restart" in line)
        assert "dimse_timeout" in line and "[[forward]]" in line and "AE title SECOND added" in line
        assert "port" not in line.replace("dimse_timeout", "").split("restart", 1)[1]
        assert printer_name(port) and proc.poll() is None  # still serving, as before the edit
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err.read_text()
