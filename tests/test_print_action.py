"""N-ACTION (Print) on Film Box and Film Session: every outcome of Tables H.4-4 and H.4-9."""

import threading

import pytest

from conftest import profile_with, wait_for
from printscp.spool import job as job_module
from scu import FILM_BOX, FILM_SESSION, associate, comment_of, gray_pixels, image_item, status_of


def film_with_image(scu, fs_uid, fmt=r"STANDARD\1,1"):
    result, fb_uid = scu.create_film_box(fs_uid, fmt)
    ib = scu.image_box_uids(result)[0]
    assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(16, 16, 2000)))) == 0
    return fb_uid


def test_action_type_other_than_print_is_0123(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        fb_uid = film_with_image(scu, fs_uid)
        assert status_of(scu.print_film_box(fb_uid, action_type=2)) == 0x0123


def test_an_empty_film_box_is_b603_and_prints_nothing(printer):
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        _, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\2,2")
        result = scu.print_film_box(fb_uid)
        assert status_of(result) == 0xB603 and "no image" in comment_of(result)
    printer.server.spooler.wait_idle(10)
    assert len(printer.jobs()) == before


def test_film_session_outcomes_c600_b602_and_success(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session(NumberOfCopies=2)
        assert status_of(scu.print_film_session(fs_uid)) == 0xC600
        scu.create_film_box(fs_uid)
        assert status_of(scu.print_film_session(fs_uid)) == 0xB602
        film_with_image(scu, fs_uid)
        film_with_image(scu, fs_uid, r"STANDARD\1,2")
        result = scu.print_film_session(fs_uid)  # the empty one is left out and named (as dcmprscp does)
        assert status_of(result) == 0xB602 and comment_of(result).startswith("film box 1 of 3 empty")
    folder, job = printer.job() if printer.wait_jobs(1) else None
    assert job["source"] == "FILM_SESSION" and len(job["films"]) == 2  # the empty film is not printed
    assert job["collated"] is True and job["delivery_order"] == [1, 2, 1, 2]


def test_uncollated_session_printing_is_b601_and_still_prints(start_printer):
    p = start_printer(profile_with(film_session={"film_session_printing": "uncollated"}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session(NumberOfCopies=2)
        film_with_image(scu, fs_uid)
        film_with_image(scu, fs_uid)
        result = scu.print_film_session(fs_uid)
        assert status_of(result) == 0xB601
    _, job = p.job() if p.wait_jobs(1) else None
    assert job["delivery_order"] == [1, 1, 2, 2]


def test_a_printer_without_session_printing_refuses_the_film_session_n_action(start_printer):
    p = start_printer(profile_with(film_session={"film_session_printing": "unsupported"}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        fb_uid = film_with_image(scu, fs_uid)
        result = scu.print_film_session(fs_uid)
        assert status_of(result) == 0x0211 and "film-session level" in comment_of(result)
        assert status_of(scu.print_film_box(fb_uid)) == 0
        (status, _), _ = scu.create_film_box(fs_uid)  # printed, so a new film box is allowed
        assert status_of(status) == 0


@pytest.fixture
def blocked_spool(monkeypatch):
    """Hold the render worker so jobs stay queued; released at teardown."""
    gate = threading.Event()
    real_run = job_module.run

    def held_run(job, output_dir, *args, **kwargs):
        gate.wait(30)
        return real_run(job, output_dir, *args, **kwargs)

    monkeypatch.setattr(job_module, "run", held_run)
    yield gate
    gate.set()


def test_a_full_queue_is_c602_for_a_film_box_and_c601_for_a_session(start_printer, blocked_spool):
    p = start_printer(profile_with(spool={"queue_size": 1}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        fb_uid = film_with_image(scu, fs_uid)
        assert status_of(scu.print_film_box(fb_uid)) == 0
        full = scu.print_film_box(fb_uid)
        assert status_of(full) == 0xC602 and "queue is full" in comment_of(full)
        assert status_of(scu.print_film_session(fs_uid)) == 0xC601
    blocked_spool.set()
    assert p.wait_jobs(1)
    assert p.server.spooler.wait_idle(20)
    assert len(p.jobs()) == 1


def test_the_job_is_a_frozen_copy_and_survives_the_association(printer, blocked_spool):
    """N-SET after N-ACTION must not change the queued job; an abort must not lose it."""
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid)
        ib = scu.image_box_uids(result)[0]
        scu.set_image_box(ib, 1, image_item(gray_pixels(16, 16, 4095)))
        assert status_of(scu.print_film_box(fb_uid)) == 0
        scu.set_image_box(ib, 1, image_item(gray_pixels(16, 16, 0)))
        scu.n_set(FILM_BOX, fb_uid, BorderDensity="WHITE")
        scu.assoc.abort()
    wait_for(lambda: printer.server.handlers.open_hierarchies == 0, what="the aborted association's cleanup")
    blocked_spool.set()
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    assert job["state"] == "DONE"
    assert job["films"][0]["attributes"]["BorderDensity"] == "BLACK"
    from PIL import Image
    png = Image.open(folder / "film-001.png")
    w, h = png.size
    assert png.getpixel((w // 2, h // 2)) > 200  # the white image that was printed, not the black one set later
