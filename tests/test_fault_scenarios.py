"""Every shipped scenario in faults/ run over the network: the SCU sees what the file's
comment promises. A scenario file without a check here fails the suite."""

from __future__ import annotations

import time

import pytest
from pynetdicom import evt

from conftest import wait_for
from printscp.faults import FaultPlan, load, shipped
from scu import associate, comment_of, gray_pixels, image_item, status_of

PIXELS = gray_pixels(64, 64, 2000)
CHECKS = {}


def check(name):
    def register(fn):
        CHECKS[name] = fn
        return fn
    return register


@pytest.mark.parametrize("name", shipped())
def test_shipped_scenario(name, start_printer):
    assert name in CHECKS, f"faults/{name}.toml has no network check in {__file__}"
    running = start_printer()
    running.server.load_faults(load(name))
    CHECKS[name](running)
    # whatever the scenario did, the printer still answers a new association
    running.server.load_faults(FaultPlan())
    with associate(running.port) as scu:
        assert status_of(scu.get_printer()[0]) == 0


def test_every_check_has_its_scenario_file():
    assert sorted(CHECKS) == shipped()


# ---- steps ---------------------------------------------------------------------------------------

def session(scu, boxes: int = 1):
    """Film Session and Film Box; returns (film session UID, film box UID, image box UIDs)."""
    (status, _), fs_uid = scu.create_film_session()
    assert status_of(status) == 0
    fb_result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1" if boxes == 1 else rf"STANDARD\{boxes},1")
    assert status_of(fb_result) == 0
    return fs_uid, fb_uid, scu.image_box_uids(fb_result)


def filled(scu):
    fs_uid, fb_uid, (ib_uid,) = session(scu)
    assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == 0
    return fs_uid, fb_uid


def printer_status(scu) -> tuple[str, str]:
    status, ds = scu.get_printer()
    assert status_of(status) == 0
    return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


def last_job_done(running, count: int = 1) -> dict:
    running.wait_jobs(count)
    assert running.settled_jobs() == count
    _, job = running.job()
    assert job["state"] == "DONE"
    return job


def watch_pdus(scu) -> list[str]:
    seen = []
    scu.assoc.bind(evt.EVT_PDU_RECV, lambda event: seen.append(type(event.pdu).__name__))
    return seen


# ---- warnings: the SCU sees the status, the request is performed -------------------------------

@check("b600-memory-allocation-not-supported")
def _(running):
    with associate(running.port) as scu:
        (status, _), fs_uid = scu.create_film_session()
        assert status_of(status) == 0xB600 and "Memory Allocation not supported" in comment_of(status)
        fb_result, _ = scu.create_film_box(fs_uid)
        assert status_of(fb_result) == 0  # the session was created


@check("b601-film-session-printing-not-supported")
def _(running):
    with associate(running.port) as scu:
        fs_uid, _ = filled(scu)
        assert status_of(scu.print_film_session(fs_uid)) == 0xB601
    assert last_job_done(running)["statuses"][-1]["status"] == "0xB601"


@check("b602-film-session-empty-page")
def _(running):
    with associate(running.port) as scu:
        fs_uid, _ = filled(scu)
        assert status_of(scu.print_film_session(fs_uid)) == 0xB602


@check("b603-film-box-empty-page")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid = filled(scu)
        assert status_of(scu.print_film_box(fb_uid)) == 0xB603
    last_job_done(running)


def image_box_warning(code):
    def run(running):
        with associate(running.port) as scu:
            _, fb_uid, (ib_uid,) = session(scu)
            assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == code
            assert status_of(scu.print_film_box(fb_uid)) == 0  # the image was stored: the film is not empty
        last_job_done(running)
    return run


check("b604-image-demagnified")(image_box_warning(0xB604))
check("b609-image-cropped")(image_box_warning(0xB609))
check("b60a-image-decimated")(image_box_warning(0xB60A))


@check("b605-density-out-of-range")
def _(running):
    with associate(running.port) as scu:
        (status, _), fs_uid = scu.create_film_session()
        fb_result, fb_uid = scu.create_film_box(fs_uid)
        assert status_of(fb_result) == 0xB605
        (ib_uid,) = scu.image_box_uids(fb_result)
        assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == 0


# ---- failures: the SCU sees the status, nothing is performed ------------------------------------

@check("c600-film-session-no-film-box")
def _(running):
    with associate(running.port) as scu:
        fs_uid, _ = filled(scu)
        assert status_of(scu.print_film_session(fs_uid)) == 0xC600
    assert running.settled_jobs() == 0


def queue_full_once(code, film_session: bool):
    def run(running):
        with associate(running.port) as scu:
            fs_uid, fb_uid = filled(scu)
            send = (lambda: scu.print_film_session(fs_uid)) if film_session else (lambda: scu.print_film_box(fb_uid))
            refused = send()
            assert status_of(refused) == code and "print queue full" in comment_of(refused)
            assert running.settled_jobs() == 0
            assert status_of(send()) == 0  # the retry prints
        last_job_done(running)
    return run


check("c601-film-session-queue-full")(queue_full_once(0xC601, film_session=True))
check("c602-film-box-queue-full")(queue_full_once(0xC602, film_session=False))


@check("c603-image-too-large")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid, (ib_uid,) = session(scu)
        assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == 0xC603
        assert status_of(scu.print_film_box(fb_uid)) == 0xB603  # not stored: the film is empty


@check("c605-insufficient-memory")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid, ib_uids = session(scu, boxes=2)
        assert status_of(scu.set_image_box(ib_uids[0], 1, image_item(PIXELS))) == 0xC605
        assert status_of(scu.set_image_box(ib_uids[1], 2, image_item(PIXELS))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    job = last_job_done(running)
    first, second = job["films"][0]["image_boxes"]
    assert first is None and second is not None  # the refused image was not stored


@check("c613-combined-image-too-large")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid = filled(scu)
        assert status_of(scu.print_film_box(fb_uid)) == 0xC613
    assert running.settled_jobs() == 0


@check("c616-film-box-not-printed")
def _(running):
    with associate(running.port) as scu:
        fs_uid, _, _ = session(scu)
        second, _ = scu.create_film_box(fs_uid)
        assert status_of(second) == 0xC616
        third, _ = scu.create_film_box(fs_uid)
        assert status_of(third) == 0


# ---- printer scenarios --------------------------------------------------------------------------

@check("film-jam")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid = filled(scu)
        assert status_of(scu.print_film_box(fb_uid)) == 0
        assert printer_status(scu) == ("FAILURE", "FILM JAM")
    running.wait_jobs(1)
    _, job = running.job()
    assert job["state"] == "FAILURE" and job["error"] == "FILM JAM"
    assert job["failed_by_rule"] == "film jam on the first print"


@check("supply-empty")
def _(running):
    with associate(running.port) as scu:
        wait_for(lambda: printer_status(scu) == ("FAILURE", "SUPPLY EMPTY"), what="SUPPLY EMPTY")
        _, fb_uid = filled(scu)
        assert status_of(scu.print_film_box(fb_uid)) == 0
    running.wait_jobs(1)
    _, job = running.job()
    assert job["state"] == "FAILURE" and job["error"] == "SUPPLY EMPTY"


@check("cover-open")
def _(running):
    with associate(running.port) as scu:
        wait_for(lambda: printer_status(scu) == ("FAILURE", "COVER OPEN"), what="COVER OPEN")
    assert running.server.faults.state()["timeline"] == ["cover opened", "cover closed"]


@check("printer-offline")
def _(running):
    with associate(running.port) as scu:
        wait_for(lambda: printer_status(scu) == ("FAILURE", "PRINTER OFFLINE"), what="PRINTER OFFLINE")


@check("supply-low-then-empty-then-normal")
def _(running):
    seen = [("NORMAL", "NORMAL")]
    with associate(running.port) as scu:
        def changes():
            now = printer_status(scu)
            if now != seen[-1]:
                seen.append(now)
            return len(seen) == 4
        wait_for(changes, timeout=20, interval=0.1, what="LOW, EMPTY, NORMAL")
    assert seen == [("NORMAL", "NORMAL"), ("WARNING", "SUPPLY LOW"), ("FAILURE", "SUPPLY EMPTY"), ("NORMAL", "NORMAL")]


@check("supply-runs-out-after-films")
def _(running):
    with associate(running.port) as scu:
        for n in range(1, 5):
            assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
            running.wait_jobs(n)
            assert running.settled_jobs() == n
            expected = ("NORMAL", "NORMAL") if n < 2 else ("WARNING", "SUPPLY LOW") if n < 4 else \
                ("FAILURE", "SUPPLY EMPTY")
            assert printer_status(scu) == expected, f"after {n} film(s)"


@check("slow-printer")
def _(running):
    with associate(running.port) as scu:
        _, fb_uid = filled(scu)
        started = time.monotonic()
        assert status_of(scu.print_film_box(fb_uid)) == 0
        assert time.monotonic() - started >= 2.0


@check("abort-on-image-box")
def _(running):
    with associate(running.port) as scu:
        seen = watch_pdus(scu)
        _, fb_uid, (ib_uid,) = session(scu)
        assert "Status" not in scu.set_image_box(ib_uid, 1, image_item(PIXELS))
        wait_for(lambda: scu.assoc.is_aborted, timeout=10, what="the abort")
        assert "A_ABORT_RQ" in seen
    with associate(running.port) as scu:  # the retry
        assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
    last_job_done(running)


@check("connection-drop-on-print")
def _(running):
    with associate(running.port) as scu:
        seen = watch_pdus(scu)
        _, fb_uid = filled(scu)
        assert "Status" not in scu.print_film_box(fb_uid)[0]
        wait_for(lambda: not scu.assoc.is_established, timeout=10, what="the dropped connection")
        assert "A_ABORT_RQ" not in seen
    assert running.settled_jobs() == 0
    with associate(running.port) as scu:
        assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
    last_job_done(running)

