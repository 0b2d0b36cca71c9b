"""A job says where and when it came from: id and folder from the time of the print, job.json
with schema and printscp versions, the peer address and UTC offsets, PDF metadata naming the job."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime

from conftest import wait_for
from scu import associate, gray_pixels
from printscp import __version__
from printscp import profile as profiles
from printscp.scp.server import PrintServer, Settings

OFFSET = re.compile(r"[+-]\d\d:\d\d$")


def test_a_job_is_named_by_the_time_of_its_print_and_says_where_it_came_from(tmp_path):
    server = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, tmp_path / "out"))
    server.start()
    try:
        started = datetime.now()
        # the print happens in a later second than the start, so a start-time name would show
        wait_for(lambda: datetime.now().replace(microsecond=0) > started.replace(microsecond=0), timeout=5,
                 what="the next second")
        with associate(server.port) as scu:
            before = datetime.now().replace(microsecond=0)
            statuses = scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1",
                                      session_attrs={"FilmSessionLabel": "CHEST PA"},
                                      film_box_attrs={"FilmSizeID": "8INX10IN"})
            after = datetime.now()
            peer_port = scu.assoc.local["port"]
        assert statuses["print"] == 0x0000, statuses
        (folder,) = wait_for(lambda: server.spooler.finished, timeout=60, what="the job")
    finally:
        server.stop()

    stamp = datetime.strptime(folder.name[:15], "%Y%m%d-%H%M%S")
    assert before <= stamp <= after, (folder.name, before, after)
    assert folder.parent.name == stamp.strftime("%Y-%m-%d")
    job = json.loads((folder / "job.json").read_text())
    assert job["schema_version"] == 2 and job["printscp_version"] == __version__
    assert folder.name.startswith(job["job_id"]) and job["job_id"][:15] == folder.name[:15]
    assert job["peer"] == f"127.0.0.1:{peer_port}"
    assert job["times"] and all(OFFSET.search(t) for t in job["times"].values()), job["times"]

    info = subprocess.run(["pdfinfo", str(folder / "job.pdf")], capture_output=True, text=True, check=True,
                          timeout=30).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Title"].strip() == f"printscp job {job['job_id']} from TESTSCU"
    assert "Film Session Label: CHEST PA" in fields["Subject"] and "8INX10IN" in fields["Subject"]
    for word in (job["job_id"], "TESTSCU", "CHEST PA", "8INX10IN"):
        assert word in fields["Keywords"], (word, fields["Keywords"])
