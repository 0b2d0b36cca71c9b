"""`printscp serve --http-host` beyond the loopback names: a token is made, printed and
required, and the control command line sends it from $PRINTSCP_HTTP_TOKEN. 127.0.0.2 is
still the loopback interface, so no traffic leaves the machine."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import wait_for
from dcmtk import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent


def _env(**extra) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **extra}


def test_beyond_loopback_names_a_token_is_printed_and_required(tmp_path):
    port, web = free_port(), free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--http-host", "127.0.0.2", "--http-port", str(web), "--output", str(tmp_path / "o")],
                                cwd=tmp_path, env=_env(), stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    try:
        wait_for_port(port, 30, proc, err)
        line = wait_for(lambda: re.search(r"web console (http://127\.0\.0\.2:\d+/)\?token=(\S+)", out.read_text()), 30,
                        what="the console line with its token")
        token = line.group(2)
        conn = http.client.HTTPConnection("127.0.0.2", web, timeout=10)
        conn.request("GET", "/api/jobs")
        assert conn.getresponse().status == 401
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.2", web, timeout=10)
        conn.request("GET", "/api/jobs", headers={"Authorization": f"Bearer {token}"})
        assert conn.getresponse().status == 200
        conn.close()
        control = f"127.0.0.2:{web}"
        cmd = [sys.executable, "-m", "printscp", "printer", "status", "--control", control]
        refused = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "authentication required" in refused.stderr
        shown = subprocess.run(cmd, env=_env(PRINTSCP_HTTP_TOKEN=token), capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0 and shown.stdout.split() == ["PRINTSCP", "NORMAL", "NORMAL"]
    finally:
        if proc.poll() is None:
            proc.terminate()  # this PID only
            proc.wait(30)
