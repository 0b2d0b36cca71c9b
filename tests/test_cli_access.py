"""`printscp serve` with an operator's odd printer title, and with its DICOM TLS options, as
real subprocesses."""

from __future__ import annotations

import subprocess
import sys

from conftest import wait_for
from dcmtk import free_port, wait_for_port
from scu import associate, gray_pixels
from test_access import client_context, echoscu_tls, pki  # noqa: F401  (pki is a fixture)
from test_cli import STARTUP_TIMEOUT, _env, run_cli, serve, terminate  # noqa: F401  (serve is a fixture)


def test_an_operator_printer_title_cannot_escape_the_output(serve, tmp_path):
    server = serve("--printer", "../escaped=default", "--printer", "CT_FILM=default")
    with associate(server.port, called_ae="../escaped") as scu:
        assert scu.print_film([gray_pixels(8, 8, 500)], r"STANDARD\1,1")["print"] == 0
    wait_for(lambda: list(server.output.glob("escaped-*/[0-9]*/*/job.json")), 30, what="the job in the output")
    assert terminate(server) == 0, server.err()
    assert not (tmp_path / "escaped").exists()
    # Beside the printers' folders the output holds the job store's files (hidden, associations/, printscp.sqlite).
    printer_folders = [p.name for p in server.output.iterdir()
                       if p.is_dir() and not p.name.startswith((".", "CT_FILM", "associations"))]
    assert printer_folders and all(name.startswith("escaped-") for name in printer_folders), printer_folders


def test_serve_tls_only_answers_dcmtk_over_tls(tmp_path, pki):  # noqa: F811
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--output", str(tmp_path / "output"),
             "--tls-port", str(port), "--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key"),
             "--tls-ca", str(pki / "ca.crt"), "--tls-only", "--control-port", "0"],
            cwd=tmp_path, env=_env(), stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    server = type("S", (), {"proc": proc, "err": lambda self=None: err.read_text(errors="replace")})()
    try:
        wait_for_port(port, STARTUP_TIMEOUT, proc, err)
        line = wait_for(lambda: next((l for l in out.read_text().splitlines() if "listening on" in l), None),
                        STARTUP_TIMEOUT, what="the listening line")
        assert f"listening on TLS port {port} " in line and "port None" not in line
        done = echoscu_tls(port, pki, cert=True)
        assert done.returncode == 0, done.stdout + done.stderr
        with associate(port, tls_args=(client_context(pki, cert=True), "localhost")) as scu:
            assert scu.print_film([gray_pixels(8, 8, 500)], r"STANDARD\1,1")["print"] == 0
        assert terminate(server) == 0, server.err()
        assert "Traceback" not in server.err()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_tls_option_mistakes_are_usage_errors(tmp_path, pki):  # noqa: F811
    cases = [
        (["--tls-port", "2762"], "--tls-port needs --tls-cert and --tls-key"),
        (["--tls-cert", str(pki / "server.crt")], "--tls-cert needs --tls-port"),
        (["--tls-only"], "--tls-only needs --tls-port"),
        (["--tls-port", "2762", "--tls-cert", str(tmp_path / "none.crt"), "--tls-key", str(pki / "server.key")],
         "no such file"),
    ]
    for args, message in cases:
        done = run_cli("serve", "--port", "0", "--output", str(tmp_path / "o"), *args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, done.stderr)
