"""Memory Allocation (2000,0060) and printer memory (PS3.4 H.4.1.2.1 and its note, H.4.3 C605).

Over real TCP: the pool is the running printer's (`server.printer.memory`), so each test
can read what is free before and after. Images are 8-bit so bytes are easy to count:
256 x 256 pixels = 64 KB.
"""

import logging
import threading

import numpy as np
import pytest
from pydicom import Dataset

from conftest import profile_with, wait_for
from printscp import conformance, uids
from printscp.model.hierarchy import Hierarchy
from printscp.model.memory import KB, MemoryPool
from printscp.model.printer import Printer
from printscp.profile import ProfileError
from scu import (COLOR_META, FILM_BOX, FILM_SESSION, associate, comment_of, gray_pixels, image_item,
                 status_of)

IMAGE_64KB = gray_pixels(256, 256, 100, bits=8)


def memory_profile(**keys):
    """A printer with 1 MB of memory, of which one film session may reserve at most 512 KB."""
    return profile_with(film_session={"memory_allocation": True, "printer_memory_kb": 1024,
                                      "max_memory_allocation_kb": 512, **keys})


def pool(printer):
    return printer.server.printer.memory


def session_with_boxes(scu, display_format=r"STANDARD\2,1", **session_attrs):
    """A film session (status checked by the caller) and a film box; returns (fs status, fs uid, fb uid, ib uids)."""
    (fs_status, _), fs_uid = scu.create_film_session(**session_attrs)
    fb_result, fb_uid = scu.create_film_box(fs_uid, display_format)
    assert status_of(fb_result) == 0
    return status_of(fs_status), fs_uid, fb_uid, scu.image_box_uids(fb_result)


def set_image(scu, ib_uids, position, pixels):
    return status_of(scu.set_image_box(ib_uids[position - 1], position, image_item(pixels)))


# ---- not supported: B600 --------------------------------------------------------------------


def test_unsupported_memory_allocation_warns_reserves_nothing_and_images_use_the_printer(start_printer):
    p = start_printer(profile_with(film_session={"printer_memory_kb": 1024}))
    memory = pool(p)
    with associate(p.port) as scu:
        status, fs_uid, _, ib_uids = session_with_boxes(scu, MemoryAllocation=512)
        assert status == 0xB600
        assert memory.free == memory.total
        assert status_of(scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=256)) == 0xB600
        assert memory.free == memory.total
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        assert memory.free == memory.total - 64 * KB


# ---- 0x0106: more than the printer gives one session ---------------------------------------


def test_a_request_above_the_per_session_maximum_gets_0106_naming_the_limit(start_printer):
    p = start_printer(memory_profile())
    memory = pool(p)
    with associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(MemoryAllocation=513)
        assert status_of(status) == 0x0106
        assert "512 KB" in comment_of(status) and "Memory Allocation" in comment_of(status)
        assert memory.free == memory.total
        (status, _), fs_uid = scu.create_film_session(MemoryAllocation=512)  # nothing was created
        assert status_of(status) == 0
        assert memory.free == memory.total - 512 * KB
        refused = scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=600, NumberOfCopies=2)
        assert status_of(refused) == 0x0106 and "512 KB" in comment_of(refused)
        assert memory.free == memory.total - 512 * KB  # the reservation kept its size


# ---- 0x0213: the printer has not got it now ---------------------------------------------------


@pytest.mark.parametrize("end", ["release", "abort"])
def test_two_associations_beyond_the_printer_get_0213_until_the_first_ends(start_printer, end):
    p = start_printer(memory_profile(printer_memory_kb=768))
    memory = pool(p)
    with associate(p.port) as second:
        with associate(p.port) as first:
            (status, _), _ = first.create_film_session(MemoryAllocation=512)
            assert status_of(status) == 0
            (status, _), _ = second.create_film_session(MemoryAllocation=512)
            assert status_of(status) == 0x0213
            assert "try later" in comment_of(status)
            assert memory.free == 256 * KB  # the refused request took nothing
            if end == "abort":
                first.assoc.abort()
        wait_for(lambda: memory.free == memory.total, what="the first association's memory to come back")
        (status, _), _ = second.create_film_session(MemoryAllocation=512)
        assert status_of(status) == 0


def test_growing_a_reservation_beyond_what_is_free_gets_0213_and_keeps_the_old_size(start_printer):
    p = start_printer(memory_profile(printer_memory_kb=768))
    memory = pool(p)
    with associate(p.port) as first, associate(p.port) as second:
        (status, _), _ = first.create_film_session(MemoryAllocation=512)
        assert status_of(status) == 0
        (status, _), uid = second.create_film_session(MemoryAllocation=128)
        assert status_of(status) == 0
        assert status_of(second.n_set(FILM_SESSION, uid, MemoryAllocation=300)) == 0x0213
        assert memory.free == 128 * KB
        assert status_of(second.n_set(FILM_SESSION, uid, MemoryAllocation=256)) == 0  # exactly what is free
        assert memory.free == 0


# ---- C605: the image does not fit ------------------------------------------------------------


def test_an_image_beyond_the_remaining_reservation_gets_c605_and_changes_nothing(start_printer):
    p = start_printer(memory_profile())
    with associate(p.port) as scu:
        status, _, fb_uid, ib_uids = session_with_boxes(scu, MemoryAllocation=100)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        refused = scu.set_image_box(ib_uids[1], 2, image_item(IMAGE_64KB))
        assert status_of(refused) == 0xC605
        assert comment_of(refused).startswith("image needs 64 KB, the Memory Allocation has 36 KB")
        # replacing an image pays only the difference
        assert set_image(scu, ib_uids, 1, gray_pixels(256, 256, 200, bits=8)) == 0
        # a too large replacement leaves the old image in its box
        assert set_image(scu, ib_uids, 1, gray_pixels(256, 512, 50, bits=8)) == 0xC605
        before = p.settled_jobs()
        assert status_of(scu.print_film_box(fb_uid)) == 0
        p.wait_jobs(before + 1)
        _, job = p.job()
        first, second = job["films"][0]["image_boxes"]
        assert (first["Rows"], first["Columns"]) == (256, 256) and second is None
        # clearing a box gives its memory back to the reservation
        assert status_of(scu.set_image_box(ib_uids[0], 1, None)) == 0
        assert set_image(scu, ib_uids, 2, IMAGE_64KB) == 0


def test_a_colour_image_counts_three_bytes_a_pixel(start_printer):
    p = start_printer(memory_profile())
    with associate(p.port, (COLOR_META,)) as scu:
        status, _, _, ib_uids = session_with_boxes(scu, MemoryAllocation=95)
        assert status == 0
        rgb = np.zeros((128, 128, 3), dtype=np.uint8)  # 48 KB
        assert set_image(scu, ib_uids, 1, rgb) == 0
        refused = scu.set_image_box(ib_uids[1], 2, image_item(rgb))
        assert status_of(refused) == 0xC605  # 48 KB more does not fit in 95 - 48
        assert comment_of(refused).startswith("image needs 48 KB, the Memory Allocation has 47 KB")


def test_an_image_above_the_per_image_limit_gets_c605(start_printer):
    p = start_printer(profile_with(film_session={"printer_memory_kb": 1024, "max_image_kb": 32}))
    with associate(p.port) as scu:
        _, _, _, ib_uids = session_with_boxes(scu)
        refused = scu.set_image_box(ib_uids[0], 1, image_item(IMAGE_64KB))
        assert status_of(refused) == 0xC605
        assert "at most 32 KB per image" in comment_of(refused)
        assert set_image(scu, ib_uids, 1, gray_pixels(128, 256, 100, bits=8)) == 0


def test_without_an_allocation_images_share_the_printer_memory(start_printer):
    p = start_printer(profile_with(film_session={"printer_memory_kb": 100}))
    memory = pool(p)
    with associate(p.port) as first, associate(p.port) as second:
        _, _, first_fb, first_boxes = session_with_boxes(first)
        _, _, _, second_boxes = session_with_boxes(second)
        assert set_image(first, first_boxes, 1, IMAGE_64KB) == 0
        assert memory.free == 36 * KB
        refused = second.set_image_box(second_boxes[0], 1, image_item(IMAGE_64KB))
        assert status_of(refused) == 0xC605
        assert comment_of(refused).startswith("image needs 64 KB, printer memory has 36 KB")
        assert status_of(first.delete(FILM_BOX, first_fb)) == 0
        assert memory.free == memory.total
        assert set_image(second, second_boxes, 1, IMAGE_64KB) == 0


# ---- freeing: film box, film session, association end ----------------------------------------


def test_film_box_n_delete_frees_its_images_for_the_session_to_reuse(start_printer):
    p = start_printer(memory_profile())
    memory = pool(p)
    with associate(p.port) as scu:
        status, fs_uid, fb_uid, ib_uids = session_with_boxes(scu, r"STANDARD\1,1", MemoryAllocation=100)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
        assert status_of(scu.delete(FILM_BOX, fb_uid)) == 0
        assert memory.free == memory.total - 100 * KB  # freed into the reservation, not the printer
        fb_result, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1")
        assert set_image(scu, scu.image_box_uids(fb_result), 1, IMAGE_64KB) == 0  # would be C605 otherwise


def test_film_session_n_delete_returns_the_whole_reservation(start_printer):
    p = start_printer(memory_profile())
    memory = pool(p)
    with associate(p.port) as scu:
        status, fs_uid, _, ib_uids = session_with_boxes(scu, MemoryAllocation=512)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        assert memory.free == memory.total - 512 * KB
        assert status_of(scu.delete(FILM_SESSION, fs_uid)) == 0
        assert memory.free == memory.total
        (status, _), _ = scu.create_film_session(MemoryAllocation=512)
        assert status_of(status) == 0


@pytest.mark.parametrize("allocation", [None, 200])
@pytest.mark.parametrize("end", ["release", "abort"])
def test_the_end_of_the_association_returns_everything(start_printer, end, allocation):
    p = start_printer(memory_profile())
    memory = pool(p)
    before = memory.free
    with associate(p.port) as scu:
        attrs = {} if allocation is None else {"MemoryAllocation": allocation}
        status, fs_uid, fb_uid, ib_uids = session_with_boxes(scu, **attrs)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        assert set_image(scu, ib_uids, 2, IMAGE_64KB) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
        assert memory.free == before - (allocation or 128) * KB
        if end == "abort":
            scu.assoc.abort()
    wait_for(lambda: memory.free == before, what="the association's memory to come back")
    assert p.server.handlers.open_hierarchies == 0


# ---- N-SET re-sizes ---------------------------------------------------------------------------


def test_n_set_resizes_the_reservation(start_printer):
    p = start_printer(memory_profile())
    memory = pool(p)
    with associate(p.port) as scu:
        status, fs_uid, _, ib_uids = session_with_boxes(scu, MemoryAllocation=100)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        shrink = scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=63)
        assert status_of(shrink) == 0x0106
        assert "less than the 64 KB" in comment_of(shrink)
        assert memory.free == memory.total - 100 * KB
        assert status_of(scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=512)) == 0
        assert memory.free == memory.total - 512 * KB
        assert set_image(scu, ib_uids, 2, IMAGE_64KB) == 0
        assert status_of(scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=128)) == 0  # exactly what is in use
        assert memory.free == memory.total - 128 * KB
        assert set_image(scu, ib_uids, 2, gray_pixels(256, 257, 1, bits=8)) == 0xC605


def test_n_set_gives_a_reservation_to_a_session_that_had_none(start_printer):
    p = start_printer(memory_profile())
    memory = pool(p)
    with associate(p.port) as scu:
        status, fs_uid, _, ib_uids = session_with_boxes(scu)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0
        assert memory.free == memory.total - 64 * KB
        assert status_of(scu.n_set(FILM_SESSION, fs_uid, MemoryAllocation=100)) == 0
        assert memory.free == memory.total - 100 * KB  # the image now lives in the reservation
        assert set_image(scu, ib_uids, 2, IMAGE_64KB) == 0xC605
        assert status_of(scu.delete(FILM_SESSION, fs_uid)) == 0
        assert memory.free == memory.total


def test_each_refusal_is_logged(start_printer, caplog):
    p = start_printer(memory_profile())
    with caplog.at_level(logging.WARNING, logger="printscp"), associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(MemoryAllocation=513)
        assert status_of(status) == 0x0106
        status, _, _, ib_uids = session_with_boxes(scu, MemoryAllocation=1)
        assert status == 0
        assert set_image(scu, ib_uids, 1, IMAGE_64KB) == 0xC605
    messages = [r.getMessage() for r in caplog.records]
    assert any("0x0106" in m and "more than the 512 KB" in m for m in messages), messages
    assert any("0xC605" in m and "image needs 64 KB" in m for m in messages), messages


# ---- the end of the association reported from another thread -------------------------------


def test_close_from_another_thread_waits_for_the_request_in_flight():
    """pynetdicom reports EVT_CONN_CLOSE on its DUL thread, maybe while a request is being served."""
    profile = memory_profile()
    printer = Printer(profile)
    hierarchy = Hierarchy(profile, printer, lambda request: "1")
    meta = uids.BASIC_GRAYSCALE_PRINT_META
    session = Dataset()
    session.MemoryAllocation = 100
    in_request, finish = threading.Event(), threading.Event()

    def slow_request():
        in_request.set()
        finish.wait(10)
        return session

    # A request is being served: its data set is read inside the hierarchy's lock.
    served = threading.Thread(target=lambda: hierarchy._run(
        "N-CREATE", uids.BASIC_FILM_SESSION, "1.2.3", meta, 1,
        lambda: hierarchy._create(uids.BASIC_FILM_SESSION, "1.2.3", slow_request(), meta)))
    served.start()
    assert in_request.wait(10)
    closing = threading.Thread(target=hierarchy.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive(), "close() did not wait for the request in flight"
    finish.set()
    served.join(10)
    closing.join(10)
    assert printer.memory.free == printer.memory.total  # the reservation made in flight came back
    late = hierarchy.n_create(uids.BASIC_FILM_SESSION, "1.2.4", session, meta)
    assert late.status == 0x0110 and printer.memory.free == printer.memory.total
    hierarchy.close()  # twice is harmless
    assert printer.memory.free == printer.memory.total


# ---- the pool itself, the profile and the conformance statement -------------------------------


def test_the_pool_stays_consistent_under_concurrent_use():
    memory = MemoryPool(64)
    taken = []

    def worker():
        for _ in range(2000):
            if memory.take(1000):
                taken.append(1)
                assert 0 <= memory.free <= memory.total
                memory.give(1000)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert memory.free == memory.total and taken
    with pytest.raises(RuntimeError):
        memory.give(1)


@pytest.mark.parametrize(
    "keys, fragment",
    [
        ({"printer_memory_kb": 0}, "[film_session] printer_memory_kb"),
        ({"memory_allocation": True, "printer_memory_kb": 100, "max_memory_allocation_kb": 200},
         "[film_session] max_memory_allocation_kb"),
        ({"max_image_kb": -1}, "[film_session] max_image_kb"),
        ({"max_memory_allocation_kb": "lots"}, "[film_session] max_memory_allocation_kb"),
    ],
)
def test_memory_keys_are_checked_at_load(keys, fragment):
    with pytest.raises(ProfileError) as exc:
        profile_with(film_session=keys)
    assert fragment in str(exc.value)


def test_the_conformance_statement_states_the_limits_and_statuses():
    text = conformance.statement(memory_profile(max_image_kb=256))
    assert "512 KB" in text and "1024 KB" in text and "256 KB" in text
    for code in ("0x0106", "0x0213", "C605"):
        assert code in text
    unsupported = conformance.statement(profile_with())
    assert "B600" in unsupported and "1048576 KB" in unsupported
