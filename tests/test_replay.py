"""`printscp jobs replay JOB --to AET@HOST:PORT`: a kept job, sent again over real TCP, prints the same film."""

from __future__ import annotations

import json

import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file

from conftest import profile_with
from dcmtk import DcmprscpServer, free_port
from scu import associate, image_item
from test_cli import run_cli


def film(folder, number: int = 1) -> np.ndarray:
    return np.asarray(Image.open(folder / f"film-{number:03d}.png"))


def replay(printer, job_folder, to_port: int, *extra: str, cwd):
    return run_cli("jobs", "replay", job_folder.name, "--to", f"PRINTSCP@127.0.0.1:{to_port}",
                   "--output", str(printer.output), *extra, cwd=cwd)


def test_a_replayed_job_prints_the_same_film_pixel_for_pixel(start_printer, tmp_path):
    first, second = start_printer(), start_printer()
    rng = np.random.default_rng(11)
    images = [rng.integers(0, 4096, (50, 70), dtype=np.uint16), None,  # box 2 left empty
              image_item(rng.integers(0, 256, (30, 20), dtype=np.uint8), bits=8)]
    with associate(first.port) as scu:
        assert scu.print_film(images, r"STANDARD\2,2", session_attrs={"FilmSessionLabel": "replay me"},
                              film_box_attrs={"FilmSizeID": "8INX10IN", "MaxDensity": 250},
                              image_attrs={"Polarity": "REVERSE", "MagnificationType": "REPLICATE"})["print"] == 0
    original = first.wait_jobs(1)[-1]

    done = replay(first, original, second.port, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "N-SET       Image Box 3 (film-001-box-03.dcm)  0x0000 success" in done.stdout
    assert "Image Box 2" not in done.stdout  # the empty box stays empty
    again = second.wait_jobs(1)[-1]
    a, b = film(original), film(again)
    assert a.shape == b.shape and np.array_equal(a, b)
    assert a.std() > 1  # not two blank films

    old, new = (json.loads((f / "job.json").read_text()) for f in (original, again))
    assert new["calling_ae"] == old["calling_ae"] == "TESTSCU"  # replayed as the same modality by default
    assert new["film_session"]["FilmSessionLabel"] == "replay me"
    assert new["films"][0]["attributes"] == old["films"][0]["attributes"]
    def boxes(job):
        return [{k: v for k, v in box.items() if k != "SOPInstanceUID"} if box else box
                for box in job["films"][0]["image_boxes"]]
    assert boxes(new) == boxes(old)


def test_a_session_printed_job_with_annotations_and_a_plut_replays_film_for_film(start_printer, tmp_path):
    first, second = start_printer(), start_printer()
    made = run_cli("print", "--demo", "--gray", "--session-print", "--plut", "lin-od", "--annotation", "1=REPLAY",
                   "--label", "demo session", "--film-size", "8INX10IN", "--max-density", "280",
                   "--port", str(first.port), cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    original = first.wait_jobs(1)[-1]
    old = json.loads((original / "job.json").read_text())
    assert old["source"] == "FILM_SESSION" and len(old["films"]) >= 3
    assert old["films"][0]["attributes"]["PresentationLUT"]["kind"] == "LIN OD"
    assert old["films"][0]["annotation_boxes"][0]["TextString"] == "REPLAY"

    done = replay(first, original, second.port, "-aet", "REPLAYER", "--json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["exit_code"] == 0, done.stdout + done.stderr
    assert report["films"] == len(old["films"])
    again = second.wait_jobs(1)[-1]
    new = json.loads((again / "job.json").read_text())
    assert new["source"] == "FILM_SESSION" and new["calling_ae"] == "REPLAYER"
    assert new["films"][0]["annotation_boxes"][0]["TextString"] == "REPLAY"
    for number in range(1, len(old["films"]) + 1):
        assert np.array_equal(film(original, number), film(again, number)), f"film {number} differs"


def test_a_replay_with_a_behaviour_goes_through_print_s_engine(start_printer, tmp_path):
    first, second = start_printer(), start_printer()
    with associate(first.port) as scu:
        assert scu.print_film([np.full((40, 40), 2000, np.uint16)], r"STANDARD\1,1")["print"] == 0
    original = first.wait_jobs(1)[-1]
    done = replay(first, original, second.port, "--as", "verify-first", "--as", "implicit-64k", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "C-ECHO" in done.stdout and "Implicit VR Little Endian" in done.stdout
    assert np.array_equal(film(original), film(second.wait_jobs(1)[-1]))


def test_replay_exit_codes(start_printer, tmp_path):
    kept = start_printer()
    not_kept = start_printer(profile_with(spool={"keep_images": False}))
    for printer in (kept, not_kept):
        with associate(printer.port) as scu:
            assert scu.print_film([np.full((8, 8), 100, np.uint16)], r"STANDARD\1,1")["print"] == 0
    job = kept.wait_jobs(1)[-1]

    nobody = replay(kept, job, free_port(), cwd=tmp_path)
    assert nobody.returncode == 3 and "is a Print SCP listening there?" in nobody.stdout

    bad_to = run_cli("jobs", "replay", job.name, "--to", "127.0.0.1:104", "--output", str(kept.output), cwd=tmp_path)
    assert bad_to.returncode == 2 and "AET@HOST:PORT" in bad_to.stderr and "Traceback" not in bad_to.stderr

    unknown = run_cli("jobs", "replay", "20990101-000000-0009", "--to", "A@127.0.0.1:104", "--output",
                      str(kept.output), cwd=tmp_path)
    assert unknown.returncode == 2 and "no job" in unknown.stderr

    omit = replay(kept, job, kept.port, "--omit", "PatientID", cwd=tmp_path)
    assert omit.returncode == 2 and "--omit PatientID" in omit.stderr and len(omit.stderr.splitlines()) == 1

    nothing = replay(not_kept, not_kept.wait_jobs(1)[-1], kept.port, cwd=tmp_path)
    assert nothing.returncode == 2 and "keep_images = false" in nothing.stderr


def test_a_job_replays_on_dcmtk_dcmprscp(start_printer, tmp_path):

    first = start_printer()
    made = run_cli("print", get_testdata_file("CT_small.dcm"), get_testdata_file("MR_small.dcm"), "--layout",
                   "STANDARD\\2,1", "--film-size", "8INX10IN", "--polarity", "NORMAL", "--port", str(first.port),
                   cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    original = first.wait_jobs(1)[-1]
    with DcmprscpServer(tmp_path / "dcmtk", free_port()) as dcmprscp:
        to = ("jobs", "replay", original.name, "--to", f"PRINTSCP@127.0.0.1:{dcmprscp.port}", "--output",
              str(first.output))
        # printscp's default Smoothing Type MEDIUM is recorded with the film; this dcmprscp knows only NONE
        refused = run_cli(*to, cwd=tmp_path)
        assert refused.returncode == 1 and "Film Box 1/1 (STANDARD\\2,1)        0x0106 failure" in refused.stdout
        done = run_cli(*to, "--omit", "SmoothingType", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(dcmprscp.stored_prints()) == 1
        stored = sorted((pydicom.dcmread(p) for p in dcmprscp.db_dir.glob("HG_*.dcm")), key=lambda d: int(d.Rows))
    kept = sorted((pydicom.dcmread(p) for p in original.glob("images/*.dcm")),
                  key=lambda d: int(d.BasicGrayscaleImageSequence[0].Rows))
    assert len(stored) == len(kept) == 2
    for got, sent in zip(stored, kept):  # DCMTK stored exactly the pixels printscp had received
        item = sent.BasicGrayscaleImageSequence[0]
        assert (int(got.Rows), int(got.Columns), int(got.BitsStored)) == (item.Rows, item.Columns, item.BitsStored)
        assert np.array_equal(got.pixel_array, np.frombuffer(item.PixelData, "<u2").reshape(item.Rows, item.Columns))


def test_a_colour_job_replays_as_colour_pixel_for_pixel(start_printer, tmp_path):
    from scu import COLOR_META

    color = profile_with(association={"meta_sop_classes": ["grayscale", "color"]})
    first, second = start_printer(color), start_printer(color)
    rgb = np.random.default_rng(5).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    with associate(first.port, (COLOR_META,)) as scu:
        assert scu.print_film([rgb, rgb[::-1]], r"STANDARD\1,2")["print"] == 0
    original = first.wait_jobs(1)[-1]
    done = replay(first, original, second.port, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Basic Color Print Management Meta" in done.stdout
    again = second.wait_jobs(1)[-1]
    box = json.loads((again / "job.json").read_text())["films"][0]["image_boxes"][0]
    assert box["PhotometricInterpretation"] == "RGB"
    a, b = film(original), film(again)
    assert a.ndim == 3 and np.array_equal(a, b)
