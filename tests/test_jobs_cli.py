"""`printscp jobs` as a subprocess on the output folder of a `printscp serve` run that has
stopped (and one that is still running), as a user would after a day of printing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import stop_process, wait_for
from dcmtk import free_port, wait_for_port
from scu import associate, gray_pixels, image_item

REPO = Path(__file__).resolve().parent.parent
PIXELS = gray_pixels(64, 64, 2000)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def jobs(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "printscp", "jobs", *args], cwd=cwd, env=env or _env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def start_serve(tmp: Path, output: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    err = tmp / "serve.err"
    with open(tmp / "serve.out", "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--http-port", "0", "--output", str(output)], cwd=tmp, env=_env(),
                                stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    wait_for_port(port, 30, proc, err)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    stop_process(proc, 60)  # this PID only; killed if it lingers


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory):
    """An output folder written by a server that has since stopped: one good print, one refused."""
    tmp = tmp_path_factory.mktemp("jobs")
    output = tmp / "output"
    proc, port = start_serve(tmp, output)
    try:
        with associate(port) as scu:
            assert scu.print_film([PIXELS], r"STANDARD\1,1", session_attrs={"FilmSessionLabel": "KNEE"})["print"] == 0
        with associate(port) as scu:
            bad = image_item(PIXELS, PhotometricInterpretation="PALETTE COLOR")
            scu.print_film([bad], r"STANDARD\1,1")
        wait_for(lambda: len(list((output / "associations").glob("*/*.json"))) == 2, 30, what="two records")
    finally:
        stop(proc)
    return tmp, output


def test_list_and_show_work_with_the_server_stopped(earlier_run):
    tmp, output = earlier_run
    listed = jobs("list", "--output", str(output), cwd=tmp)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["JOB", "QUEUED", "STATE"] and len(lines) == 2
    assert "DONE" in lines[1] and "TESTSCU" in lines[1] and "KNEE" in lines[1]
    rows = json.loads(jobs("list", "--json", "--ae", "TESTSCU", "--output", str(output), cwd=tmp).stdout)
    assert [r["label"] for r in rows] == ["KNEE"]
    assert json.loads(jobs("list", "--json", "--state", "FAILURE", "--output", str(output), cwd=tmp).stdout) == []
    assert "no jobs match" in jobs("list", "--ae", "NOBODY", "--output", str(output), cwd=tmp).stdout
    job_id = rows[0]["job_id"]
    shown = jobs("show", job_id[-4:], "--output", str(output), cwd=tmp)
    assert shown.returncode == 0 and f"job {job_id}: DONE" in shown.stdout
    assert "STANDARD\\1,1" in shown.stdout and "pdf: " in shown.stdout and "label: KNEE" in shown.stdout


def test_without_output_the_folder_is_found_as_serve_finds_it(earlier_run, tmp_path):
    """PRINTSCP_OUTPUT, then the config's output, then $STATE_DIRECTORY/output (a systemd service)."""
    tmp, output = earlier_run

    sources = ("PRINTSCP_OUTPUT", "PRINTSCP_CONFIG", "STATE_DIRECTORY")

    def labels(env):
        clean = {k: v for k, v in _env().items() if k not in sources}
        done = jobs("list", "--json", cwd=tmp_path, env={**clean, **env})
        assert done.returncode == 0, done.stderr
        return [row["label"] for row in json.loads(done.stdout)]

    assert labels({"PRINTSCP_OUTPUT": str(output)}) == ["KNEE"]
    config = tmp_path / "serve.toml"
    config.write_text(f'output = "{output}"\n')
    assert labels({"PRINTSCP_CONFIG": str(config)}) == ["KNEE"]
    state = tmp_path / "state"
    state.mkdir()
    (state / "output").symlink_to(output)
    assert labels({"STATE_DIRECTORY": str(state)}) == ["KNEE"]

    # the order: each source beats the ones after it (an empty output folder lists no jobs)
    empty = tmp_path / "empty"
    empty.mkdir()
    other = tmp_path / "other.toml"
    other.write_text(f'output = "{empty}"\n')
    assert labels({"PRINTSCP_OUTPUT": str(output), "PRINTSCP_CONFIG": str(other)}) == ["KNEE"]
    assert labels({"PRINTSCP_OUTPUT": str(empty), "PRINTSCP_CONFIG": str(config)}) == []
    assert labels({"PRINTSCP_CONFIG": str(config), "STATE_DIRECTORY": str(empty)}) == ["KNEE"]


def test_report_lists_each_request_with_its_status(earlier_run):
    tmp, output = earlier_run
    job_id = json.loads(jobs("list", "--json", "--output", str(output), cwd=tmp).stdout)[0]["job_id"]
    report = jobs("report", job_id, "--output", str(output), cwd=tmp)
    assert report.returncode == 0, report.stderr
    assert "TESTSCU -> PRINTSCP from 127.0.0.1" in report.stdout and "ended: released" in report.stdout
    assert "N-ACTION Basic Film Box (message 1) -> 0x0000 SUCCESS" in report.stdout
    assert "context 1: Basic Grayscale Print Management Meta: accepted" in report.stdout


def test_export_copies_the_folder_record_and_report(earlier_run, tmp_path):
    tmp, output = earlier_run
    job_id = json.loads(jobs("list", "--json", "--output", str(output), cwd=tmp).stdout)[0]["job_id"]
    done = jobs("export", job_id, str(tmp_path), "--output", str(output), cwd=tmp)
    assert done.returncode == 0, done.stderr
    target = Path(done.stdout.strip())
    assert (target / "job.json").exists() and (target / "job.pdf").exists()
    assert len(list(target.glob("report-*.txt"))) == 1 and len(list(target.glob("association-*.json"))) == 1
    again = jobs("export", job_id, str(tmp_path), "--output", str(output), cwd=tmp)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_wrong_requests_are_one_line_and_exit_2(earlier_run, tmp_path):
    tmp, output = earlier_run
    unknown = jobs("show", "nope", "--output", str(output), cwd=tmp)
    assert unknown.returncode == 2 and unknown.stderr.startswith("printscp: no job 'nope'")
    assert len(unknown.stderr.strip().splitlines()) == 1
    missing = jobs("list", "--output", str(tmp_path / "nothing"), cwd=tmp)
    assert missing.returncode == 2 and "no output folder" in missing.stderr
    since = jobs("list", "--since", "yesterday", "--output", str(output), cwd=tmp)
    assert since.returncode == 2 and "a span (30m, 2h, 7d)" in since.stderr


def test_a_lost_database_is_rebuilt_and_delete_removes_folder_and_row(earlier_run, tmp_path):
    tmp, output = earlier_run
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(output, copy)
    for db in copy.glob("printscp.sqlite*"):
        db.unlink()
    listed = json.loads(jobs("list", "--json", "--output", str(copy), cwd=tmp).stdout)  # rebuilt on first use
    assert len(listed) == 1
    reindexed = jobs("reindex", "--output", str(copy), cwd=tmp)
    assert reindexed.returncode == 0 and "indexed 1 job(s) and 2 association record(s)" in reindexed.stdout
    folder = copy / listed[0]["folder"]
    deleted = jobs("delete", listed[0]["job_id"], "--output", str(copy), cwd=tmp)
    assert deleted.returncode == 0 and not folder.exists()
    assert json.loads(jobs("list", "--json", "--output", str(copy), cwd=tmp).stdout) == []


def test_list_reads_while_a_server_is_writing(tmp_path):
    output = tmp_path / "output"
    proc, port = start_serve(tmp_path, output)
    try:
        for n in range(3):
            with associate(port) as scu:
                assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
            wait_for(lambda: (r := jobs("list", "--json", "--output", str(output), cwd=tmp_path)).returncode
                     == 0 and len(json.loads(r.stdout)) == n + 1, 30, what=f"{n + 1} job(s) listed")
    finally:
        stop(proc)


def test_since_filters_by_time(earlier_run):
    tmp, output = earlier_run
    recent = json.loads(jobs("list", "--json", "--since", "1d", "--output", str(output), cwd=tmp).stdout)
    assert len(recent) == 1
    assert json.loads(jobs("list", "--json", "--since", "2099-01-01", "--output", str(output), cwd=tmp).stdout) == []


def test_open_without_a_desktop_viewer_names_the_pdf(earlier_run, tmp_path):
    tmp, output = earlier_run
    job_id = json.loads(jobs("list", "--json", "--output", str(output), cwd=tmp).stdout)[0]["job_id"]
    (tmp_path / "bin").mkdir()
    env = {**_env(), "PATH": str(tmp_path / "bin")}  # no xdg-open here
    opened = jobs("open", job_id, "--output", str(output), cwd=tmp, env=env)
    assert opened.returncode == 1 and "xdg-open not found" in opened.stderr and "job.pdf" in opened.stderr


def test_a_corrupt_store_is_one_line_and_exit_2_for_serve_and_jobs(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    (output / "printscp.sqlite").write_bytes(b"this is not a database" * 100)
    listed = jobs("list", "--output", str(output), cwd=tmp_path)
    assert listed.returncode == 2 and "printscp jobs reindex" in listed.stderr and "Traceback" not in listed.stderr
    served = subprocess.run([sys.executable, "-m", "printscp", "serve", "--port", str(free_port()), "--http-port", "0",
                             "--output", str(output)], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                            timeout=60)
    assert served.returncode == 2 and "printscp.sqlite" in served.stderr and "Traceback" not in served.stderr
