"""The deployment files in deploy/: the systemd unit passes systemd's own checker, and the sample
config starts printscp the way the unit does, jobs under systemd's StateDirectory.
(The Containerfile is not built here: no container engine runs on the test machine.)"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from conftest import wait_for
from dcmtk import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze (Debian package systemd) is needed for this test"
    printscp = Path(sys.executable).parent / "printscp"
    assert printscp.exists(), printscp
    unit = tmp_path / "printscp.service"
    text = (DEPLOY / "printscp.service").read_text()
    assert "ExecStart=/opt/printscp/bin/printscp serve --config /etc/printscp/printscp.toml" in text
    unit.write_text(text.replace("/opt/printscp/bin/printscp", str(printscp)))
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_sample_config_serves_with_jobs_under_the_state_directory(tmp_path):
    port, out, err = free_port(), tmp_path / "serve.out", tmp_path / "serve.err"
    state = tmp_path / "state"
    state.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PRINTSCP_")}
    environment.update(PYTHONPATH=str(REPO), STATE_DIRECTORY=str(state), PRINTSCP_PORT=str(port),
                       PRINTSCP_HOST="127.0.0.1", PRINTSCP_CONTROL_PORT="0")
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--config", str(DEPLOY / "printscp.toml")],
                                cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    try:
        wait_for_port(port, 30, proc, err)
        wait_for(lambda: "listening" in out.read_text(), timeout=30, what="the banner")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, err.read_text()
    assert f"listening on port {port} (output {state / 'output'})" in out.read_text()
    assert (state / "output").is_dir() and not (tmp_path / "output").exists()
