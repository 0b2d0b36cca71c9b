"""The installed wheel, used as a stranger would: from a directory outside the checkout.

Run by .ci/wheel-check with the development venv's Python (for DCMTK's test harness in
tests/dcmtk.py); printscp itself runs from the fresh venv given by --venv.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

STARTUP_TIMEOUT = 60.0
JOB_TIMEOUT = 60.0


def fail(message: str) -> None:
    print(f"wheel-check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def run(cmd: list, cwd: Path) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        fail(f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def check_sdist(repo: Path, dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = {str(p.relative_to(repo)) for folder in ("layouts", "faults") for p in (repo / folder).rglob("*.toml")}
    missing = sorted(wanted - names) + [n for n in ("LICENSE", "setup.py") if n not in names]
    if missing:
        fail(f"{sdist.name} lacks {', '.join(missing)}")
    print(f"wheel-check: {sdist.name} carries {len(wanted)} data files and LICENSE")


def _get(url: str) -> bytes | None:
    """The body of a 200 answer, else None (loopback only)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read() if answer.status == 200 else None
    except (OSError, urllib.error.URLError):
        return None


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--repo", "--venv", "--dist", "--workdir"):
        parser.add_argument(name, type=Path, required=True)
    args = parser.parse_args()
    repo, work = args.repo.resolve(), args.workdir.resolve()
    if work.is_relative_to(repo):
        fail(f"{work} is inside the checkout")
    sys.path.insert(0, str(repo / "tests"))
    from dcmtk import DcmtkPrint, free_port, wait_for_port

    check_sdist(repo, args.dist)
    printscp = args.venv / "bin" / "printscp"
    python = args.venv / "bin" / "python"
    location = run([python, "-c", "import printscp.resources as r; print(r.data_dir('layouts'))"], work).strip()
    if Path(location).resolve().is_relative_to(repo):
        fail(f"the installed printscp reads its data from the checkout ({location})")
    print(run([printscp, "--version"], work).strip())

    profiles = {line.split()[0] for line in run([printscp, "profiles", "list"], work).splitlines() if line.strip()}
    shipped = {p.stem for p in (repo / "layouts").glob("*.toml")}
    if profiles != shipped:
        fail(f"profiles list shows {sorted(profiles)}, the repository ships {sorted(shipped)}")
    scenarios = {line.split()[0] for line in run([printscp, "faults", "list"], work).splitlines() if line.strip()}
    shipped = {p.stem for p in (repo / "faults").glob("*.toml")}
    if scenarios != shipped:
        fail(f"faults list shows {sorted(scenarios)}, the repository ships {sorted(shipped)}")
    print(f"wheel-check: {len(profiles)} profiles and {len(scenarios)} fault scenarios listed")

    # A user's own profile that names shipped layout data (SLIDE, CUSTOM\i, annotations) works from here.
    own = work / "my-printer.toml"
    own.write_text(run([printscp, "profiles", "show", "default"], work))
    if "custom_formats" not in own.read_text():
        fail("profiles show default names no shipped layout data; the check below would test nothing")
    run([printscp, "profiles", "check", str(own)], work)
    print("wheel-check: a user's own profile using shipped layout data loads")

    port, http = free_port(), free_port()
    log = (work / "serve.log").open("w")
    server = subprocess.Popen([printscp, "serve", "--port", str(port), "--http-port", str(http), "-v"],
                              cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=STARTUP_TIMEOUT)
        dcmtk = DcmtkPrint(work / "dcmtk")
        images = dcmtk.make_images(4, 256, 256)
        stored = dcmtk.make_stored_print(images, 2, 2, film_size="8INX10IN")
        result = dcmtk.print(stored, port)
        if not result.ok:
            fail(f"dcmprscu failed:\n{result.log}")
        output = work / "output"
        jobs = wait_until(lambda: [p for p in output.glob("*/*/job.json") if not p.parent.parent.name.startswith(".")],
                          JOB_TIMEOUT, f"a job.json under {output}")
        job = json.loads(jobs[0].read_text())
        pdfs = list(jobs[0].parent.glob("*.pdf"))
        if job.get("state") != "DONE" or not pdfs:
            fail(f"job {jobs[0].parent} is {job.get('state')} with PDFs {pdfs}")
        print(f"wheel-check: dcmprscu printed a film: {jobs[0].parent.relative_to(work)} ({pdfs[0].name})")

        # The installed Print SCU, its demo films (annotations: the shipped fonts), the job store and the console.
        run([printscp, "print", "--demo", "--port", str(port), "--wait"], work)
        listed = json.loads(run([printscp, "jobs", "list", "--json", "--output", str(output)], work))
        if len(listed) < 2:
            fail(f"printscp jobs list shows {len(listed)} job(s) after two prints")
        page = wait_until(lambda: _get(f"http://127.0.0.1:{http}/"), JOB_TIMEOUT, "the web console")
        if job["job_id"] not in page.decode():
            fail(f"the console's job list does not show job {job['job_id']}")
        for asset in ("/static/console.css", "/static/console.js"):
            if not _get(f"http://127.0.0.1:{http}{asset}"):
                fail(f"the console's {asset} is missing from the wheel")
        print(f"wheel-check: printscp print --demo, jobs list ({len(listed)} jobs) and the console answer")
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
    if server.returncode != 0:
        fail(f"printscp serve exited {server.returncode}:\n{(work / 'serve.log').read_text()}")
    print("wheel-check: ok")


if __name__ == "__main__":
    main()
