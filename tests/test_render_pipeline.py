"""The fast render path: same pixels as before, one deflate for PNG and PDF, worker processes.

`_old_compose` is the renderer as it was before the fused LUTs and the single encode
(a float P-value tile per image, a film-sized density plane, one display lookup); the new
one must give the same pixels on noisy phantoms, every magnification and polarity.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from phantoms import ct_phantom, film
from printscp.layout import Rect
from printscp.model.print_request import AnnotationContent, PrintRequest
from printscp.render.annotations import burn
from printscp.render.density import density_display_lut, p_density_lut
from printscp.layout import MM_PER_INCH
from printscp.render.film import _od, _resized, boxes_in_band, compose_array, film_pixels
from printscp.render.writers import adler32_combine, deflate_band, join_bands
from printscp.render.pvalues import p_values
from printscp.spool import job as jobs
from printscp.spool import render_pool
from render_helpers import pdf_pages


def _old_paste(canvas, tile, box):
    left, top, right, bottom = box
    x = left + (right - left - tile.shape[1]) // 2
    y = top + (bottom - top - tile.shape[0]) // 2
    canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    return x, y, x + tile.shape[1], y + tile.shape[0]


def _old_trim(canvas, placed, box, film, value):
    if not film.trim_width_mm:
        return
    w = max(1, round(film.trim_width_mm * film.dpi / MM_PER_INCH))
    left, top, right, bottom = placed
    outer = (max(box[0], left - w), max(box[1], top - w), min(box[2], right + w), min(box[3], bottom + w))
    for y0, y1, x0, x1 in ((outer[1], top, outer[0], outer[2]), (bottom, outer[3], outer[0], outer[2]),
                           (top, bottom, outer[0], left), (top, bottom, right, outer[2])):
        canvas[y0:y1, x0:x1] = value


def _old_compose(film) -> np.ndarray:
    """The grayscale renderer before this change, verbatim in its arithmetic."""
    width, height = film_pixels(film)
    plane = np.full((height, width), _od(film.border_density), dtype=np.uint16)
    for rect, image in zip(film.box_rects, film.images):
        box = rect.to_pixels(film.dpi)
        plane[box[1]:box[3], box[0]:box[2]] = _od(film.empty_image_density)
        if image is not None:
            scaled = _resized(p_values(image, film.illumination, film.reflected_ambient_light), image, "F")
            index = np.clip(np.rint(scaled * 4095), 0, 4095).astype(np.intp)
            lut = p_density_lut(4096, image.min_density, image.max_density, film.illumination,
                                film.reflected_ambient_light)
            placed = _old_paste(plane, lut[index], box)
            _old_trim(plane, placed, box, film, _od(film.trim_density))
    return density_display_lut(film.base_density, film.illumination, film.reflected_ambient_light)[plane]


FILMS = {
    "bilinear 4x5 14x17": dict(columns=4, rows=5, dpi=150),
    "replicate 3x3": dict(columns=3, rows=3, dpi=150, magnification="REPLICATE", seed=7),
    "cubic sharp": dict(columns=2, rows=2, dpi=150, magnification="CUBIC", smoothing="lanczos", seed=3),
    "none, empty boxes": dict(columns=3, rows=2, dpi=150, magnification="NONE", empty=(1, 4), seed=5),
    # nearest magnification looks values up before replicating them (film._tile): decimated,
    # inverted and 8-bit images must give the very pixels of the float path
    "replicate decimated": dict(columns=3, rows=2, dpi=60, magnification="REPLICATE", seed=17, image_size=1024),
    "none decimated": dict(columns=4, rows=4, dpi=100, magnification="NONE", seed=19, image_size=512),
    "replicate monochrome1 reverse": dict(columns=2, rows=2, dpi=150, magnification="REPLICATE",
                                          photometric="MONOCHROME1", polarity="REVERSE", seed=23),
    "replicate 8-bit": dict(columns=1, rows=1, dpi=150, magnification="REPLICATE", bits=8, seed=29),
    "reverse": dict(columns=2, rows=1, dpi=150, polarity="REVERSE", seed=11),
    "monochrome1 8-bit": dict(columns=2, rows=2, dpi=150, photometric="MONOCHROME1", bits=8, seed=13,
                              min_density=0.4, max_density=2.5),
}


@pytest.mark.parametrize("name", FILMS)
def test_composed_films_are_pixel_identical_to_the_old_renderer(name):
    options = dict(FILMS[name])
    f = film(**{"image_size": 256 if name != "bilinear 4x5 14x17" else 512, **options})
    new = compose_array(f)
    assert new.dtype == np.uint8 and new.shape == film_pixels(f)[::-1]
    assert np.array_equal(new, _old_compose(f))
    assert new.std() > 5  # noisy images, not a flat film


def _request(films, copies=1) -> PrintRequest:
    return PrintRequest("FILM_BOX", tuple(films), copies, False, "BENCH", "PRINTSCP", "default", "printscp",
                        datetime.now(), {})


def _job(films, copies=1) -> jobs.Job:
    return jobs.Job("20261130-000000-0001", _request(films, copies), datetime.now().astimezone())


def _pdf_image(pdf: Path, tmp_path: Path, index: int = 0) -> np.ndarray:
    """The image embedded in the PDF, extracted losslessly by poppler (not a rasterised page)."""
    subprocess.run(["pdfimages", "-png", "-f", "1", "-l", "99", str(pdf), str(tmp_path / "x")], check=True)
    return np.asarray(Image.open(tmp_path / f"x-{index:03d}.png"))


def _fresh_pool(workers: int | None) -> None:
    """configure() applies when the pool starts: stop the one an earlier test left running."""
    render_pool.shutdown()
    render_pool.configure(workers)


@pytest.fixture
def workers():
    """workers(n): this test's films render in a pool of exactly n processes."""
    yield _fresh_pool
    _fresh_pool(None)


@pytest.fixture(params=[0, 2], ids=["in-thread", "2 workers"])
def pool(request, workers):
    workers(request.param)
    return request.param


def test_png_and_pdf_hold_the_same_film_encoded_once(tmp_path, pool):
    f = film(3, 2, dpi=150, seed=21)
    outputs, _ = jobs._render(_job([f], copies=2), tmp_path)
    assert [p.name for p in outputs] == ["film-001.png", "job.pdf"]
    expected = compose_array(f)
    png = Image.open(outputs[0])
    assert png.info["dpi"] == pytest.approx((150, 150), abs=0.05)
    assert np.array_equal(np.asarray(png), expected)
    assert np.array_equal(_pdf_image(outputs[1], tmp_path), expected)
    pages, sizes = pdf_pages(outputs[1])
    assert pages == 2 and sizes == [(1008.0, 1224.0)] * 2  # 14x17 in, true size
    # both copies show one image object: the film is stored once
    listing = subprocess.run(["pdfimages", "-list", str(outputs[1])], check=True, capture_output=True,
                             text=True).stdout.splitlines()[2:]
    assert len({line.split()[11] for line in listing}) == 1
    idat = outputs[0].stat().st_size
    assert outputs[1].stat().st_size < idat * 1.01  # the same stream, not a second encoding


def test_annotated_film_burns_labels_into_the_png_and_sets_searchable_text_in_the_pdf(tmp_path, pool):
    text = "PATIENT (ÄÖ) \\ 42"
    f = replace(film(2, 1, dpi=150, seed=2), annotations=(
        AnnotationContent(1, text, Rect(10, 5, 200, 12), "left", 6.0),), annotation_density=0.15)
    (png_path, pdf_path), _ = jobs._render(_job([f]), tmp_path)
    composed = compose_array(f)
    burnt = np.asarray(burn(Image.fromarray(composed, "L"), f))
    assert not np.array_equal(burnt, composed)
    assert np.array_equal(np.asarray(Image.open(png_path)), burnt)
    assert np.array_equal(_pdf_image(pdf_path, tmp_path), composed)  # the text is drawn, not burnt
    found = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True, text=True).stdout
    assert text in found


def test_colour_films_share_the_stream_too(tmp_path, pool):
    base = film(2, 1, dpi=100, seed=4)
    rgb = np.dstack([ct_phantom(1, 128, 8), ct_phantom(2, 128, 8), ct_phantom(3, 128, 8)])
    rgb.flags.writeable = False
    image = replace(base.images[0], pixels=rgb, photometric_interpretation="RGB", bits_stored=8)
    f = replace(base, images=(image, None), is_color=True)
    (png_path, pdf_path), _ = jobs._render(_job([f]), tmp_path)
    expected = compose_array(f)
    assert expected.shape[2] == 3
    assert np.array_equal(np.asarray(Image.open(png_path)), expected)
    assert np.array_equal(_pdf_image(pdf_path, tmp_path), expected)


def test_a_film_that_fails_to_render_raises_from_the_worker_and_the_next_job_renders(tmp_path, pool):
    bad = film(1, 1, dpi=100, image_size=64, magnification="CUBIC", smoothing="no such filter")
    (tmp_path / "bad").mkdir()
    with pytest.raises(KeyError, match="no such filter"):
        jobs._render(_job([bad]), tmp_path / "bad")
    (tmp_path / "good").mkdir()
    outputs, _ = jobs._render(_job([film(1, 1, dpi=100, image_size=64)]), tmp_path / "good")
    assert all(p.stat().st_size > 0 for p in outputs)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_bad_render_worker_count_is_a_usage_error(tmp_path, how):
    import os
    import sys
    args = [sys.executable, "-m", "printscp", "serve", "--port", "0", "--output", str(tmp_path)]
    env = dict(os.environ)
    if how == "flag":
        args += ["--render-workers", "many"]
    else:
        env[render_pool.ENV] = "many"
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "many" in done.stderr and "render" in done.stderr


def test_bands_of_a_film_are_its_rows_and_join_into_one_valid_stream():
    import zlib
    f = film(3, 2, dpi=150, seed=31)  # trim on: band edges cut through boxes and trim frames
    whole = compose_array(f)
    height = whole.shape[0]
    edges = [0, 700, 701, 1500, height]
    for top, end in zip(edges, edges[1:]):
        assert np.array_equal(compose_array(boxes_in_band(f, (top, end)), (top, end)), whole[top:end])
    bands = [deflate_band(whole[top:end], whole[top - 1] if top else None, end == height)
             for top, end in zip(edges, edges[1:])]
    joined = join_bands(whole.shape[1], height, 1, bands)
    raw = zlib.decompress(joined.data)  # checks the Adler-32 too
    rows = np.frombuffer(raw, np.uint8).reshape(height, whole.shape[1] + 1)
    assert set(rows[:, 0]) == {3}  # every row Average-filtered


def test_adler32_combine_matches_zlib():
    import zlib
    rng = np.random.default_rng(5)
    for n1, n2 in ((0, 10), (1, 1), (70000, 123457), (65521, 65521)):
        a, b = rng.bytes(n1), rng.bytes(n2)
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), n2) == zlib.adler32(a + b)


def test_render_workers_run_below_the_association_threads_priority(workers):
    """Films render at a higher niceness than the server: the network is answered first."""
    import os

    workers(2)
    mine = os.nice(0)
    assert render_pool.submit(os.nice, 0).result(60) == mine + render_pool.WORKER_NICENESS


def test_render_workers_reuse_their_heap_from_film_to_film(workers):
    """glibc's defaults map each film's large arrays afresh, faulting in every page (~6 000 minor
    page faults for this 7 Mpixel film, a third of the worker's CPU); the tuned worker reuses its heap."""
    import resource

    from printscp.render.output import render_band

    workers(1)  # one process: the renders and the page-fault counts are the same worker's
    f = film(2, 2, size_mm=(203.2, 254.0), seed=3)  # 8x10 in at 300 dpi: 2400 x 3000 pixels
    render_pool.submit(render_band, f, 0, 3000, True).result(60)
    faults = [render_pool.submit(resource.getrusage, resource.RUSAGE_SELF).result(60).ru_minflt]
    for _ in range(3):
        render_pool.submit(render_band, f, 0, 3000, True).result(60)
        faults.append(render_pool.submit(resource.getrusage, resource.RUSAGE_SELF).result(60).ru_minflt)
    assert (faults[-1] - faults[0]) / 3 < 1500, faults


def test_images_travel_to_the_render_workers_as_the_bytes_received():
    """An image that is a view of the received Pixel Data is pickled as those bytes (no tobytes()
    copy first); any other array still goes through numpy's own reduction. Both arrive intact."""
    import pickle
    from multiprocessing.reduction import ForkingPickler

    received = np.arange(64 * 48, dtype="<u2").tobytes() + b"\0"  # an odd pad byte, as DICOM allows
    image = np.frombuffer(received, "<u2", count=64 * 48).reshape(64, 48)
    reduced = render_pool._reduce_array(image)
    assert reduced[0] is render_pool._array_from and reduced[1][0] is received
    back = pickle.loads(ForkingPickler.dumps(image))
    assert np.array_equal(back, image) and back.dtype == image.dtype and not back.flags.writeable

    window = np.arange(100.0).reshape(10, 10)[:, ::2]  # not contiguous, owns no bytes object
    assert render_pool._reduce_array(window)[0] is not render_pool._array_from
    assert np.array_equal(pickle.loads(ForkingPickler.dumps(window)), window)


def test_a_banded_film_brings_back_the_preview_of_the_whole_film(tmp_path, workers):
    """The bands' previews (edges on multiples of the factor) join into exactly the reduction of
    the composed film; the render returns them for the store's thumbnails."""
    from printscp.render.output import preview, preview_factor

    workers(2)
    f = film(4, 5, dpi=150, seed=5)
    _, previews = jobs._render(_job([f]), tmp_path)
    whole = compose_array(f)
    factor = preview_factor(whole.shape[1], whole.shape[0])
    assert factor > 1 and set(previews) == {1}
    assert np.array_equal(previews[1], preview(whole, factor))
    assert previews[1].shape == (-(-whole.shape[0] // factor), -(-whole.shape[1] // factor))


def test_image_boxes_are_kept_while_the_films_render_and_a_failed_copy_never_fails_the_print(
        tmp_path, workers, monkeypatch):
    """The kept copies are written inside the render, between submitting the films to the workers
    and collecting them (before, the spool thread wrote them after the render); whatever goes wrong
    with them, the job prints and job.json says why."""
    import json

    workers(2)
    real, calls = jobs._render, []

    def watched(job, folder, meanwhile=None):
        calls.append(meanwhile)
        return real(job, folder, meanwhile=meanwhile)

    monkeypatch.setattr(jobs, "_render", watched)
    f = film(2, 2, dpi=150, seed=8)
    boxes = tuple(replace(image, attributes={"SOPInstanceUID": f"1.2.3.4.{n}"}) for n, image in enumerate(f.images))
    folder, state, _ = jobs.run(_job([replace(f, images=boxes)]), tmp_path / "out", keep_images=True)
    assert state == "DONE" and callable(calls[0])
    manifest = json.loads((folder / "job.json").read_text())
    assert len(manifest["kept_images"]) == 4 and (folder / "images" / "film-001-box-01.dcm").exists()

    # no SOP Instance UID on the boxes: the copy cannot be made, the film prints all the same
    folder, state, _ = jobs.run(_job([f]), tmp_path / "out2", keep_images=True)
    manifest = json.loads((folder / "job.json").read_text())
    assert state == "DONE" and manifest["kept_images_error"].startswith("KeyError")
    assert (folder / "film-001.png").exists() and not (folder / "images").exists()
