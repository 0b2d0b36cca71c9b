"""The README's test print, as written: images from docs/make_test_images.py, dcmpsprt and
dcmprscu with docs/dcmtk-print.cfg (its directories and port moved into this test's tmp)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import wait_for
from dcmtk import dcmtk_binary, dcmtk_env, free_port
from printscp import profile as profiles
from printscp.scp.server import PrintServer, Settings

REPO = Path(__file__).resolve().parent.parent


def test_the_readme_test_print_works_with_the_shipped_image_generator_and_config(tmp_path):
    images = subprocess.run([sys.executable, str(REPO / "docs" / "make_test_images.py"), str(tmp_path / "img"), "4"],
                            capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert [Path(p).name for p in images] == ["img1.dcm", "img2.dcm", "img3.dcm", "img4.dcm"]
    port = free_port()
    work = tmp_path / "dcmtk"
    for sub in ("db", "spool", "lut"):
        (work / sub).mkdir(parents=True)
    config = tmp_path / "dcmtk-print.cfg"
    text = (REPO / "docs" / "dcmtk-print.cfg").read_text()
    assert "/tmp/printscp-dcmtk" in text and "Port = 11112" in text
    config.write_text(text.replace("/tmp/printscp-dcmtk", str(work)).replace("Port = 11112", f"Port = {port}"))

    server = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", port, tmp_path / "out"))
    server.start()
    try:
        run = dict(cwd=tmp_path, env=dcmtk_env(), capture_output=True, text=True, timeout=120)
        done = subprocess.run([dcmtk_binary("dcmpsprt"), "-c", str(config), "-p", "PRINTSCP", "--layout", "2", "2",
                               *images], **run)
        assert done.returncode == 0, done.stderr
        (stored,) = (work / "db").glob("SP_*.dcm")
        done = subprocess.run([dcmtk_binary("dcmprscu"), "-c", str(config), "-p", "PRINTSCP", str(stored)], **run)
        assert done.returncode == 0 and "E:" not in done.stdout + done.stderr, done.stdout + done.stderr
        (folder,) = wait_for(lambda: server.spooler.finished, timeout=60, what="the job")
    finally:
        server.stop()
    job = json.loads((folder / "job.json").read_text())
    assert job["state"] == "DONE" and job["calling_ae"] == "DCMPRSCU"
    assert job["films"][0]["attributes"]["ImageDisplayFormat"] == "STANDARD\\2,2"
    assert sum(box is not None for box in job["films"][0]["image_boxes"]) == 4
