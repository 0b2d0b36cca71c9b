"""Every user error on the command line: one line naming what is wrong and what to do, and the
documented exit code (0 ok, 1 runtime failure, 2 usage/config error, 3 cannot reach the server).

Each case runs `python -m printscp` as a real subprocess; none may print a traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import wait_for
from dcmtk import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
BAD_PROFILE = '[film_box]\nfilm_sizes = ["14INX17IN"]\nmax_rowz = 4\n'


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PRINTSCP_")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "printscp", *args], cwd=cwd, env=environment,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def assert_fails(done: subprocess.CompletedProcess, code: int, *needles: str, lines: int = 1) -> str:
    """Exit `code`, `lines` line(s) on stderr each starting with printscp, naming every needle."""
    assert done.returncode == code, done
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == lines, done.stderr
    assert all(line.startswith("printscp") for line in err), done.stderr
    for needle in needles:
        assert needle in done.stderr, (needle, done.stderr)
    return done.stderr


def serve_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--control-port", "0",
            "-od", str(tmp_path / "out"), *extra]


# --------------------------------------------------------------------------- ports


@pytest.mark.parametrize("port, needle", [("70000", "'70000' must be a TCP port number 0..65535"),
                                          ("-1", "'-1' must be a TCP port number"),
                                          ("abc", "'abc' must be a TCP port number")])
def test_a_bad_port_is_a_usage_error(tmp_path, port, needle):
    done = run_cli("serve", "--port", port, cwd=tmp_path)
    assert_fails(done, 2, needle, "--port")
    assert not (tmp_path / "output").exists()


def test_a_busy_port_is_a_runtime_failure_naming_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("serve", "--host", "127.0.0.1", "--port", str(port), "-od", str(tmp_path / "out"), cwd=tmp_path)
    assert_fails(done, 1, f"cannot listen on 127.0.0.1:{port}", "--port")


def test_port_65535_serves(tmp_path):
    """The highest port serves (the control endpoint used to be --port + 1, which overflowed; it is
    now the console's --http-port). Port 65535 may be taken on a shared machine: then the answer
    must be the clean exit 1."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
    with open(stdout, "w") as out, open(stderr, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", "65535",
                                 "-od", str(tmp_path / "out"), "--http-port", "0"], cwd=tmp_path, env=environment,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: proc.poll() is not None or "listening on port" in stdout.read_text(),
                 timeout=STARTUP_TIMEOUT, what="printscp to listen on 65535 or exit")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    out, err = stdout.read_text(), stderr.read_text()
    assert "Traceback" not in err, err
    if proc.returncode == 1:
        assert "cannot listen on 127.0.0.1:65535" in err, err
    else:
        assert proc.returncode == 0, err
        assert "listening on port 65535" in out


# --------------------------------------------------------------------------- config and environment


def test_a_config_value_of_the_wrong_type_names_file_key_and_value(tmp_path):
    config = tmp_path / "printscp.toml"
    config.write_text('port = "abc"\n')
    done = run_cli("serve", "--config", str(config), cwd=tmp_path)
    assert_fails(done, 2, f"{config}: port = 'abc'", "port number")
    assert not (tmp_path / "output").exists(), "serve created output/ before refusing its config"


def test_a_config_file_reports_every_problem_at_once_with_hints(tmp_path):
    config = tmp_path / "printscp.toml"
    config.write_text('prot = 11112\nlog_level = "LOUD"\n[retention]\nmax_age_dayz = 3\n')
    err = assert_fails(run_cli("serve", "--config", str(config), cwd=tmp_path), 2, lines=3)
    assert "prot: unknown key; did you mean 'port'?" in err
    assert "max_age_dayz: unknown key; did you mean 'max_age_days'?" in err
    assert "log_level = 'LOUD': must be one of DEBUG" in err


def test_a_missing_config_file_is_a_usage_error(tmp_path):
    done = run_cli("serve", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert_fails(done, 2, "nope.toml: no such config file")


def test_an_environment_variable_sets_an_option_and_its_errors_name_it(tmp_path):
    done = run_cli("serve", cwd=tmp_path, env={"PRINTSCP_PORT": "99999"})
    assert_fails(done, 2, "PRINTSCP_PORT = '99999'")


def test_the_command_line_wins_over_environment_and_config(tmp_path):
    config = tmp_path / "printscp.toml"
    config.write_text('port = "bad, but overridden"\nae_title = "FROMFILE"\n')
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PRINTSCP_")}
    environment.update(PYTHONPATH=str(REPO), PRINTSCP_CONFIG=str(config), PRINTSCP_PORT="also bad",
                       PRINTSCP_OUTPUT=str(tmp_path / "env-out"))
    proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--control-port", "0"], cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, STARTUP_TIMEOUT, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"FROMFILE (default) listening on port {port} (output {tmp_path / 'env-out'})" in out


# --------------------------------------------------------------------------- output and files


def test_an_output_that_is_a_file_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "out"
    target.write_text("not a directory")
    done = run_cli(*serve_args(tmp_path), cwd=tmp_path)
    assert_fails(done, 2, f"output {target}: exists and is not a directory", "-od/--output")


def test_an_output_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "out"
    done = run_cli("serve", "--port", str(free_port()), "-od", str(target), cwd=tmp_path)
    assert_fails(done, 2, f"output {target}: cannot be created", "-od/--output")


def test_a_log_file_that_cannot_be_opened_is_a_usage_error(tmp_path):
    done = run_cli(*serve_args(tmp_path, "--log-file", str(tmp_path / "no" / "dir" / "x.log")), cwd=tmp_path)
    assert_fails(done, 2, "x.log", "--log-file")
    assert not (tmp_path / "out").exists()


def test_conformance_to_an_unwritable_path_is_one_line(tmp_path):
    done = run_cli("conformance", "-o", "/nonexistent/x.md", cwd=tmp_path)
    assert_fails(done, 2, "cannot write /nonexistent/x.md", "-o")


def test_a_missing_profile_file_is_a_usage_error(tmp_path):
    done = run_cli(*serve_args(tmp_path, "--profile", str(tmp_path / "mine.toml")), cwd=tmp_path)
    assert_fails(done, 2, "mine.toml: no such profile file")
    assert not (tmp_path / "out").exists(), "serve created its output before refusing the profile"


# --------------------------------------------------------------------------- names


def test_an_unknown_profile_name_lists_the_shipped_ones_and_the_closest(tmp_path):
    done = run_cli(*serve_args(tmp_path, "--profile", "dry-lazer"), cwd=tmp_path)
    assert_fails(done, 2, "unknown profile 'dry-lazer'", "did you mean 'dry-laser'?", "ihe-full", "ultrasound")


def test_an_unknown_fault_scenario_names_the_closest_and_where_to_look(tmp_path):
    done = run_cli(*serve_args(tmp_path, "--faults", "film-jan"), cwd=tmp_path)
    assert_fails(done, 2, "unknown fault scenario 'film-jan'", "did you mean 'film-jam'?", "printscp faults list")


def test_an_unknown_command_or_option_is_one_usage_line(tmp_path):
    assert_fails(run_cli("serv", cwd=tmp_path), 2, "invalid choice: 'serv'", "--help")
    assert_fails(run_cli("serve", "--prot", "1", cwd=tmp_path), 2, "--prot", "--help")
    assert_fails(run_cli("serve", "-ll", "LOUD", cwd=tmp_path), 2, "--log-level = 'LOUD'", "DEBUG")


# --------------------------------------------------------------------------- profiles


def test_the_same_bad_profile_is_exit_2_from_check_show_and_serve(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(BAD_PROFILE)
    for args in (["profiles", "check", str(broken)], ["profiles", "show", str(broken)],
                 serve_args(tmp_path, "--profile", str(broken)), ["conformance", "--profile", str(broken)]):
        assert_fails(run_cli(*args, cwd=tmp_path), 2, "max_rowz: unknown key", "did you mean 'max_rows'?")


def test_a_profile_check_reports_every_error_of_the_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[film_box]\nmax_rowz = 4\nmagnification_types = ["BILINAER"]\n[film_sesion]\nx = 1\n'
                      '[spool]\nqueue_size = "many"\n')
    err = assert_fails(run_cli("profiles", "check", str(broken), cwd=tmp_path), 2, lines=4)
    assert "did you mean 'max_rows'?" in err
    assert "'BILINAER' is not one of" in err and "did you mean 'BILINEAR'?" in err
    assert "unknown section [film_sesion] (did you mean 'film_session'?)" in err
    assert "[spool] queue_size: expected int, got 'many'" in err


# --------------------------------------------------------------------------- version and reachability


def test_version_names_pynetdicom_and_pydicom(tmp_path):
    import pydicom
    import pynetdicom

    done = run_cli("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip().endswith(f"(pynetdicom {pynetdicom.__version__}, pydicom {pydicom.__version__})")


def test_a_server_that_cannot_be_reached_is_exit_3(tmp_path):
    nobody = f"127.0.0.1:{free_port()}"
    assert_fails(run_cli("printer", "status", "--control", nobody, cwd=tmp_path), 3, nobody)


def test_a_fault_file_check_reports_every_rule_with_a_problem(tmp_path):
    faults = tmp_path / "mine.toml"
    faults.write_text('seeed = 1\n[[rule]]\nname = "a"\noperaton = "N-ACTION"\n[[rule]]\nname = "b"\nstatus = 0x0000\n'
                      '[[timeline]]\nafter_films = 0\nprinter_status = ["WARNING", "SUPPLY LOW"]\n')
    err = assert_fails(run_cli("faults", "check", str(faults), cwd=tmp_path), 2, lines=4)
    assert "seeed: unknown key (did you mean 'seed'?)" in err
    assert "[[rule]] 'a': operaton: unknown key (did you mean 'operation'?)" in err
    assert "[[rule]] 'b' status: 0x0000 is success" in err
    assert "after_films: expected an integer of at least 1" in err
    err = assert_fails(run_cli(*serve_args(tmp_path, "--faults", str(faults)), cwd=tmp_path), 2, lines=4)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- found by fuzzing (2026-11-30)


@pytest.mark.parametrize("args, code, needle", [
    (["print", "--port", "70000", "--demo"], 2, "--port: '70000' must be the printer's TCP port, 1..65535"),
    (["print", "--port", "0", "--demo"], 2, "must be the printer's TCP port"),
    (["print", "-aet", "ÄÖ", "--demo"], 2, "-aet/--calling: 'ÄÖ' must be an AE title of 1..16 ASCII"),
    (["print", "-aec", "A\\B", "--demo"], 2, "must be an AE title"),
    (["print", "--dpi", "0", "--demo"], 2, "--dpi: '0' must be a resolution of 50..1200"),
    (["print", "--max-pdu", "1", "--demo"], 2, "--max-pdu: '1' must be 0 (unlimited) or 4096..16777216"),
    (["print", "-tn", "nan", "--demo"], 2, "-tn/--network-timeout: 'nan' must be a number of seconds"),
    (["print", "--copies", "abc", "--demo"], 2, "--copies: invalid int value"),  # one line, not the usage
    (["print", "--host", "nonexistent.invalid", "--port", "11112", "--demo"], 3, "no such host"),
    (["serve", "--tls-port", "70000"], 2, "--tls-port: '70000' must be a TCP port number"),
    (["serve", "--render-workers", "100000"], 2, "must be a number of processes, 0..64"),
    (["serve", "-od", ""], 2, "--output = '': must be a folder"),
    (["jobs", "list", "--since", "100000000d"], 2, "--since: '100000000d': give a date"),
    (["printer", "status", "--control", "garbage"], 2, "--control 'garbage': give HOST:PORT or PORT"),
    (["printer", "status", "--control", "127.0.0.1:99999"], 2, "give HOST:PORT or PORT"),
    (["serve", "--http-port", "8081", "--control-port", "8082"], 2, "control_port is the older name of http_port"),
    (["print", "--demo", "--frames", "x"], 2, "--frames 'x': use numbers and ranges from 1"),
])
def test_bad_values_are_one_line_with_the_documented_exit_code(tmp_path, args, code, needle):
    done = run_cli(*args, cwd=tmp_path)
    if args[0] == "print" and code == 3:  # the SCU reports its step and summary on stdout
        assert done.returncode == 3 and needle in done.stdout and "Traceback" not in done.stderr, done
        return
    assert_fails(done, code, needle)


def test_the_control_command_pointed_at_a_dicom_port_cannot_reach_a_control_endpoint(tmp_path):
    args = serve_args(tmp_path)
    port = int(args[args.index("--port") + 1])
    proc = subprocess.Popen([sys.executable, "-m", "printscp", *args],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, STARTUP_TIMEOUT, proc)
        done = run_cli("printer", "status", "--control", f"127.0.0.1:{port}", cwd=tmp_path)
        assert_fails(done, 3, "does not speak HTTP")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0


def test_a_job_id_is_matched_literally_not_as_a_like_pattern(tmp_path):
    out = tmp_path / "out"
    for n in (1, 2):
        folder = out / "2026-11-30" / f"20261130-100000-000{n}-SCU"
        folder.mkdir(parents=True)
        (folder / "job.json").write_text(f'{{"job_id": "20261130-100000-000{n}", "state": "DONE", "films": []}}')
    for ref in ("%2", "0_02", "%"):
        done = run_cli("jobs", "delete", ref, "--output", str(out), cwd=tmp_path)
        assert_fails(done, 2, f"no job {ref!r}")
    assert (out / "2026-11-30" / "20261130-100000-0002-SCU").exists()
    assert_fails(run_cli("jobs", "show", "", "--output", str(out), cwd=tmp_path), 2, "no job id given")
