"""The job store over real associations: records for printed, refused and rejected
associations, jobs indexed with thumbnails, and a rebuild from the folders alone."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest
from PIL import Image
from pynetdicom import AE

from conftest import stored_server, wait_for
from printscp import profile as profiles
from printscp.store import Store, StoreError
from scu import GRAY_META, associate, gray_pixels, image_item

PIXELS = gray_pixels(64, 64, 2000)


@pytest.fixture
def stored(tmp_path):
    with stored_server(tmp_path / "out") as running:
        yield running


def test_a_print_is_indexed_with_its_thumbnail_and_its_association_record(stored):
    server, store = stored
    with associate(server.port) as scu:
        statuses = scu.print_film([PIXELS, PIXELS], r"STANDARD\1,2", session_attrs={"FilmSessionLabel": "CHEST"})
    assert statuses["print"] == 0
    jobs = wait_for(lambda: store.jobs(), what="the job indexed")
    job = jobs[0]
    assert job["state"] == "DONE" and job["calling_ae"] == "TESTSCU" and job["label"] == "CHEST"
    thumb = store.output / job["film_list"][0]["thumbnail"]
    with Image.open(thumb) as image:
        assert max(image.size) <= 480 and image.size[1] > image.size[0]  # a portrait film
    record = wait_for(lambda: store.associations() and store.association(store.associations()[0]["id"]),
                      what="the association record")
    assert record["jobs"] == [job["job_id"]] and record["outcome"] == "released"
    assert record["calling_ae"] == "TESTSCU" and record["printer"] == "PRINTSCP"
    assert record["peer"]["address"] == "127.0.0.1"
    ops = [(p["request"]["operation"], p["response"]["status"]) for p in record["requests"]]
    assert ops[0] == ("N-CREATE", "0x0000") and ("N-ACTION", "0x0000") in ops
    image_box = next(p["request"] for p in record["requests"] if p["request"]["operation"] == "N-SET")
    item = image_box["attributes"]["BasicGrayscaleImageSequence"][0]
    assert item["Rows"] == "64" and item["PixelData"] == f"({64 * 64 * 2} bytes)"
    assert store.job(job["job_id"][-4:])["associations"] == [record["id"]]
    # One id for the association everywhere: job.json's pointer, its streamed statuses, the store's record.
    manifest = store.job(job["job_id"])["manifest"]
    assert manifest["association"]["id"] == record["id"]
    assert (store.output / manifest["association"]["record"]).with_suffix(".json").is_file()


def test_thumbnails_come_from_the_render_previews_not_from_decoding_the_pngs(stored, monkeypatch, tmp_path):
    from printscp.store import db, thumbs

    made_before_indexing = []

    def watched(png, target, *args):  # make_thumbnail decodes the PNG only for a missing or older thumbnail
        made_before_indexing.append(target.exists() and target.stat().st_mtime >= png.stat().st_mtime)
        return thumbs.make_thumbnail(png, target, *args)

    monkeypatch.setattr(db, "make_thumbnail", watched)
    server, store = stored
    big = (np.arange(600 * 500, dtype=np.uint16).reshape(600, 500) * 7) % 4096
    with associate(server.port) as scu:
        assert scu.print_film([big], r"STANDARD\1,1", film_box_attrs={"FilmSizeID": "14INX17IN"})["print"] == 0
    job = wait_for(lambda: store.jobs(), what="the job indexed")[0]
    assert made_before_indexing == [True]  # the preview's thumbnail was there: the PNG was not decoded
    thumb = store.output / job["film_list"][0]["thumbnail"]
    from_png = thumbs.make_thumbnail(store.output / job["film_list"][0]["file"], tmp_path / "from-png.png")
    with Image.open(thumb) as a, Image.open(from_png) as b:
        assert a.size == b.size
        difference = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
    assert difference.mean() < 2.0  # the same picture: a box-reduced preview, then the same resize


def test_a_refused_print_leaves_a_record_saying_why(stored):
    server, store = stored
    bad = image_item(PIXELS, PhotometricInterpretation="PALETTE COLOR")
    with associate(server.port) as scu:
        statuses = scu.print_film([bad], r"STANDARD\1,1")
    assert statuses["image_boxes"][0] & 0xF000 != 0 or statuses["print"] != 0
    row = wait_for(lambda: store.associations(nothing_printed=True), what="the record")[0]
    assert row["jobs"] == 0 and row["failures"] >= 1 and "answered 0x" in row["why_nothing_printed"]
    record = store.association(row["id"])
    failed = next(p["response"] for p in record["requests"] if p["response"]["category"] == "failure")
    assert failed["error_comment"] and failed["check"]["error_comment"]


def test_an_association_to_an_unknown_printer_is_recorded_as_rejected(tmp_path):
    profile = profiles.from_dict({"association": {"check_called_ae": True}}, name="strict")
    with stored_server(tmp_path / "out", profile) as (server, store):
        ae = AE(ae_title="NOSUCH")
        ae.add_requested_context(GRAY_META)
        assoc = ae.associate("127.0.0.1", server.port, ae_title="WRONGPRINTER")
        assert assoc.is_rejected
        ae.shutdown()
        row = wait_for(lambda: store.associations(), what="the record")[0]
        assert row["outcome"] == "rejected" and row["called_ae"] == "WRONGPRINTER"
        assert "called AE title not recognised" in row["why_nothing_printed"]


def test_the_store_is_rebuilt_from_the_folders(stored, tmp_path):
    server, store = stored
    with associate(server.port) as scu:
        scu.print_film([PIXELS], r"STANDARD\1,1")
    wait_for(lambda: store.jobs() and store.associations(), what="job and record")
    copy = tmp_path / "copy"  # the folders without the database, as after losing it
    shutil.copytree(store.output, copy, ignore=shutil.ignore_patterns("printscp.sqlite*", ".thumbs"))
    assert not (copy / "printscp.sqlite").exists()
    fresh = Store(copy)
    try:
        assert fresh.reindex() == (1, 1)
        assert fresh.jobs()[0]["job_id"] == store.jobs()[0]["job_id"]
        assert fresh.job(store.jobs()[0]["job_id"])["associations"] == [store.associations()[0]["id"]]
    finally:
        fresh.close()


def test_the_schema_is_versioned_and_in_wal_mode(tmp_path):
    Store(tmp_path).close()
    db = sqlite3.connect(tmp_path / "printscp.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this printscp"):
        Store(tmp_path)


def test_an_unknown_job_is_a_clear_error(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="no job 'nope'"):
        store.job("nope")
    store.close()


def test_a_folder_removed_behind_the_store_is_forgotten(stored):
    server, store = stored
    with associate(server.port) as scu:
        scu.print_film([PIXELS], r"STANDARD\1,1")
    job = wait_for(lambda: store.jobs(), what="the job")[0]
    shutil.rmtree(store.output / job["folder"])  # as a retention policy would
    with pytest.raises(StoreError, match="is gone"):
        store.job(job["job_id"])
    assert store.jobs() == [] and not (store.output / ".thumbs" / job["job_id"]).exists()


def test_a_port_probe_is_no_association(stored):
    server, store = stored
    import socket
    with socket.create_connection(("127.0.0.1", server.port)):
        pass
    with associate(server.port) as scu:
        scu.get_printer([0x21100010, 0x21100020])  # Printer Status, Printer Status Info
    rows = wait_for(lambda: store.associations(), what="the record")
    assert len(rows) == 1 and rows[0]["calling_ae"] == "TESTSCU"
    (pair,) = store.association(rows[0]["id"])["requests"]
    assert pair["request"]["attribute_identifiers"] == ["21100010", "21100020"]
    assert pair["response"]["attributes"]["PrinterStatus"] == "NORMAL"


def test_events_sent_and_their_replies_are_in_the_record(tmp_path):
    from test_print_job_events import EventSCU, print_one

    with stored_server(tmp_path / "out") as (server, store):
        client = EventSCU(server.port)
        try:
            print_one(client.scu)
            wait_for(lambda: "DONE" in client.job_events(), 20, what="the Done event")
        finally:
            client.close()
        row = wait_for(lambda: store.associations(), what="the record")[0]
        events = store.association(row["id"])["events"]
        types = [e["request"]["EventTypeID"] for e in events if e["request"]["sop_class_name"] == "Print Job"]
        assert types == [1, 2, 3]  # Pending, Printing, Done
        assert all(e["response"] and e["response"]["status"] == "0x0000" for e in events)


def test_an_aborted_association_is_recorded_with_the_rule_that_aborted_it(stored):
    from printscp.faults import load

    server, store = stored
    server.load_faults(load("abort-on-image-box"))
    with associate(server.port) as scu:
        (_, _), fs = scu.create_film_session()
        result, _ = scu.create_film_box(fs)
        scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(PIXELS))
        wait_for(lambda: not scu.assoc.is_established, what="the abort")
    row = wait_for(lambda: store.associations(), what="the record")[0]
    assert row["outcome"] == "aborted" and row["jobs"] == 0
    record = store.association(row["id"])
    assert record["requests"][-1]["request"]["operation"] == "N-SET" and record["requests"][-1]["response"] is None
    assert "aborted" in record["why_nothing_printed"]
