"""`printscp print` over real TCP: demo films measured on the rendered film, real images, exit codes.

The SCU runs in-process (printscp.cli.main) against a real printscp on a loopback port;
its --json report is what the assertions read, the printer's job folders what they measure.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from printscp.cli import main
from printscp.render.density import density_display_lut, density_of_p
from printscp.scu import demo

CT, MR = get_testdata_file("CT_small.dcm"), get_testdata_file("MR_small.dcm")
MULTIFRAME = get_testdata_file("rtdose.dcm")  # 15 frames
RGB = get_testdata_file("examples_rgb_color.dcm")

# the default profile's viewing conditions and density range (layouts/default.toml)
D_MIN, D_MAX, L0, LA = 0.15, 3.20, 2000.0, 10.0


def run_print(capsys, port: int, *args: str) -> tuple[int, dict]:
    code = main(["print", "--port", str(port), "-td", "30", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def new_jobs(printer, action) -> tuple[object, list]:
    """Run action(); return its result and the job folders it published, in order."""
    before = printer.settled_jobs()
    result = action()
    printer.settled_jobs()
    jobs = printer.jobs()[before:]
    return result, [(folder, json.loads((folder / "job.json").read_text())) for folder in jobs]


def film(folder) -> tuple[np.ndarray, float]:
    image = Image.open(folder / "film-001.png")
    return np.asarray(image), float(image.info["dpi"][0])


def bright_bbox(pixels: np.ndarray, threshold: int = 200) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(pixels > threshold)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def services(report: dict) -> list[str]:
    return [f"{s['service']} {s['target']}".strip() for s in report["steps"]]


# -- the demo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_print(printer):
    """One `printscp print --demo --wait` for the module's checks."""
    buffer = io.StringIO()
    before = printer.settled_jobs()
    with contextlib.redirect_stdout(buffer):
        code = main(["print", "--demo", "--port", str(printer.port), "--wait", "--json", "-td", "30"])
    printer.settled_jobs()
    jobs = [(f, json.loads((f / "job.json").read_text())) for f in printer.jobs()[before:]]
    return code, json.loads(buffer.getvalue()), jobs


def test_demo_prints_every_film_and_exits_0(demo_print):
    code, report, jobs = demo_print
    assert code == 0, report
    assert report["counts"]["failure"] == 0 and report["counts"]["warning"] == 0
    assert report["films"] == 4 and len(jobs) == 4  # wedge, geometry, SMPTE in gray; the colour chart
    assert sorted(report["print_jobs"].values()) == ["DONE"] * 4  # --wait saw every job finish
    assert [j["state"] for _, j in jobs] == ["DONE"] * 4
    assert any(e["event"] == "DONE" for e in report["events"])  # the Print Job events were answered


def test_demo_wedge_steps_print_at_the_printers_densities(demo_print):
    _, _, jobs = demo_print
    pixels, _dpi = film(jobs[0][0])
    assert pixels.ndim == 2
    x0, y0, x1, _ = bright_bbox(pixels)  # the wedge's white frame on the black film border
    scale = (x1 - x0) / (demo.WEDGE_SIZE + 2 * demo.WEDGE_FRAME)
    inner_x, inner_y = x0 + demo.WEDGE_FRAME * scale, y0 + demo.WEDGE_FRAME * scale
    step = demo.WEDGE_SIZE / demo.WEDGE_STEPS * scale
    lut = density_display_lut(D_MIN, L0, LA)
    measured, expected = [], []
    for k in range(demo.WEDGE_STEPS):
        cx, cy = int(inner_x + (k + 0.5) * step), int(inner_y + 150 * scale)
        measured.append(float(np.median(pixels[cy - 5:cy + 5, cx - 5:cx + 5])))
        density = density_of_p(demo.wedge_value(k) / demo.P_MAX, D_MIN, D_MAX, L0, LA)
        expected.append((float(density), int(lut[int(round(float(density) * 1000))])))
    assert all(b >= a for a, b in zip(measured, measured[1:])), measured  # lighter step by step
    for k, (value, (density, display)) in enumerate(zip(measured, expected)):
        assert abs(value - display) <= 2, f"step {k}: display {value}, expected {display} (D={density:.2f})"
    # measured display -> density, where 8-bit display still resolves it (D <= 2)
    table = density_display_lut(D_MIN, L0, LA)[150:3500].astype(float)  # the film base is white: D >= D_MIN
    densities = np.arange(150, 3500) / 1000
    for k, (value, (density, _)) in enumerate(zip(measured, expected)):
        if density <= 2.0:
            found = densities[np.argmin(np.abs(table - value))]
            assert abs(found - density) < 0.05, f"step {k}: D {found:.3f}, expected {density:.3f}"
    assert expected[0][0] == pytest.approx(D_MAX, abs=0.01) and expected[-1][0] == pytest.approx(D_MIN, abs=0.01)


def test_demo_geometry_ruler_prints_true_size(demo_print):
    _, _, jobs = demo_print
    folder, job = jobs[1]
    pixels, dpi = film(folder)
    assert job["films"][0]["image_boxes"][0]["RequestedImageSize"] in ("100", 100, 100.0)
    x0, y0, x1, y1 = bright_bbox(pixels)
    width_mm = (x1 - x0) / dpi * 25.4
    assert width_mm == pytest.approx(100.0, abs=0.3)
    assert (y1 - y0) / dpi * 25.4 == pytest.approx(100.0, abs=0.3)  # square: the aspect is kept
    row = pixels[int(y1 - 4.5 / 25.4 * dpi), x0:x1]  # crosses only the 10 mm ticks
    dark = row < 100
    edges = np.flatnonzero(np.diff(dark.astype(int)))
    starts, ends = edges[::2] + 1, edges[1::2] + 1
    if dark[0]:
        starts = np.r_[0, starts]
    centres = [(s + e - 1) / 2 for s, e in zip(starts, ends)]
    assert len(centres) >= 10, centres
    interior = [c for c in centres if 0.05 * len(row) < c < 0.95 * len(row)]
    assert len(interior) == 9  # 10 .. 90 mm
    assert (interior[-1] - interior[0]) / dpi * 25.4 == pytest.approx(80.0, abs=0.3)


def test_demo_colour_chart_is_printed_in_colour(demo_print):
    _, report, jobs = demo_print
    folder, job = jobs[3]
    pixels, _ = film(folder)
    assert pixels.ndim == 3
    red = (pixels[..., 0].astype(int) - pixels[..., 1]) > 150
    assert red.sum() > 10000  # a saturated red patch, not gray
    assert any("Basic Color Print Management Meta" in s["detail"] for s in report["steps"])


def test_demo_skips_the_colour_chart_on_a_grayscale_printer(start_printer, capsys):
    from conftest import profile_with

    gray_only = start_printer(profile_with(association={"meta_sop_classes": ["grayscale"]}))
    code, report = run_print(capsys, gray_only.port, "--demo")
    assert code == 0
    assert report["films"] == 3
    assert any("colour film skipped" in n for n in report["notes"])


# -- real images ------------------------------------------------------------------------------


def windowed_spread(folder) -> float:
    pixels, _ = film(folder)
    x0, y0, x1, y1 = bright_bbox(pixels, 40)
    region = pixels[y0:y1, x0:x1].astype(float)
    low, high = np.percentile(region, [5, 95])
    return high - low


@pytest.mark.parametrize("path", [CT, MR], ids=["CT_small", "MR_small"])
def test_ct_and_mr_print_windowed_not_flat(printer, capsys, path):
    (code, report), jobs = new_jobs(printer, lambda: run_print(capsys, printer.port, path))
    assert code == 0, report
    assert len(jobs) == 1
    assert windowed_spread(jobs[0][0]) > 100  # a flat-grey film spreads over a few levels only


def test_window_option_changes_the_film(printer, capsys):
    (_, _), jobs = new_jobs(printer, lambda: run_print(capsys, printer.port, CT, "--window", "40,400"))
    (_, _), auto = new_jobs(printer, lambda: run_print(capsys, printer.port, CT, "--voi", "auto"))
    a, _ = film(jobs[0][0])
    b, _ = film(auto[0][0])
    assert np.abs(a.astype(int) - b).mean() > 2


def test_multiframe_more_images_than_boxes_makes_several_films(printer, capsys):
    (code, report), jobs = new_jobs(
        printer, lambda: run_print(capsys, printer.port, MULTIFRAME, "--layout", "STANDARD\\2,2", "--bits", "8"))
    assert code == 0, report
    assert report["films"] == 4 and report["images"] == 15  # 4 + 4 + 4 + 3
    assert len(jobs) == 4
    steps = services(report)
    assert "N-SET Image Box 4 (rtdose.dcm#4)" in steps and "N-SET Image Box 3 (rtdose.dcm#15)" in steps


def test_frames_option_picks_frames(printer, capsys):
    code, report = run_print(capsys, printer.port, MULTIFRAME, "--frames", "2,5-6", "--layout", "STANDARD\\3,1")
    assert code == 0
    assert [s["target"] for s in report["steps"] if s["service"] == "N-SET"] == [
        "Image Box 1 (rtdose.dcm#2)", "Image Box 2 (rtdose.dcm#5)", "Image Box 3 (rtdose.dcm#6)"]


def test_rgb_image_goes_to_the_colour_image_box_or_gray(printer, capsys):
    (code, report), jobs = new_jobs(printer, lambda: run_print(capsys, printer.port, RGB))
    assert code == 0
    pixels, _ = film(jobs[0][0])
    assert pixels.ndim == 3 and np.abs(pixels[..., 0].astype(int) - pixels[..., 2]).max() > 100
    (code, report), jobs = new_jobs(printer, lambda: run_print(capsys, printer.port, RGB, "--gray"))
    assert code == 0
    pixels, _ = film(jobs[0][0])
    assert pixels.ndim == 2 and windowed_spread(jobs[0][0]) > 60


def test_film_options_reach_the_printer(printer, capsys):
    (code, report), jobs = new_jobs(printer, lambda: run_print(
        capsys, printer.port, MR, "--film-size", "8INX10IN", "--orientation", "LANDSCAPE", "--medium", "PAPER",
        "--copies", "2", "--label", "scu test", "--magnification", "REPLICATE", "--border", "WHITE",
        "--trim", "NO", "--plut", "identity", "--annotation", "1=hello", "--polarity", "REVERSE"))
    assert code == 0, report
    (_, job), = jobs
    box = job["films"][0]
    assert box["size_mm"] == [254.0, 203.2]
    assert box["attributes"]["MagnificationType"] == "REPLICATE"
    assert box["attributes"]["BorderDensity"] == "WHITE"
    assert box["image_boxes"][0]["Polarity"] == "REVERSE"
    assert box["annotation_boxes"][0]["TextString"] == "hello"
    assert "N-CREATE Presentation LUT" in services(report)


# -- exit codes and --strict ---------------------------------------------------------------


def test_a_warning_exits_0_but_4_with_strict(printer, capsys):
    # the default profile has no memory allocation: Memory Allocation earns 0xB600, a warning
    code, report = run_print(capsys, printer.port, MR, "--memory-allocation", "1000")
    assert code == 0 and report["counts"]["warning"] == 1
    assert any(s["status"] == 0xB600 for s in report["steps"])
    code, report = run_print(capsys, printer.port, MR, "--memory-allocation", "1000", "--strict")
    assert code == 4
    assert "N-ACTION Film Box 1/1" in services(report)  # --strict reports; it does not stop


def test_warnings_fail_behaviour_stops_at_the_warning(printer, capsys):
    code, report = run_print(capsys, printer.port, MR, "--memory-allocation", "1000", "--as", "warnings-fail")
    assert code == 4
    assert not any(s.startswith("N-CREATE Film Box") for s in services(report))


def test_a_failure_status_exits_1_with_its_error_comment(printer, capsys):
    code, report = run_print(capsys, printer.port, MR, "--layout", "STANDARD\\20,20")
    assert code == 1
    failed = [s for s in report["steps"] if s["category"] == "failure"]
    assert failed and failed[0]["service"] == "N-CREATE" and failed[0]["error_comment"]
    assert "N-DELETE Film Session" in services(report)  # the session is cleaned up
    assert "N-SET Image Box 1 (MR_small.dcm)" not in services(report)


def test_text_output_has_one_line_per_step_and_a_summary(printer, capsys):
    code = main(["print", "--port", str(printer.port), MR, "--layout", "STANDARD\\20,20"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    line = next(x for x in out if x.startswith("N-CREATE    Film Box"))
    assert "0x0106 failure" in line and '"' in line  # status and quoted Error Comment
    assert out[-1].startswith("SUMMARY") and out[-1].endswith("exit 1")


def test_unreachable_printer_exits_3(capsys):
    from dcmtk import free_port

    code, report = run_print(capsys, free_port(), MR, "-ta", "5", "-tn", "5")
    assert code == 3 and report["unreachable"]


def test_usage_errors_exit_2(capsys, tmp_path):
    assert main(["print", "--port", "1"]) == 2
    assert "nothing to print" in capsys.readouterr().err
    assert main(["print", MR, "--window", "40"]) == 2
    assert "CENTER,WIDTH" in capsys.readouterr().err
    (tmp_path / "x.dcm").write_text("not dicom")
    assert main(["print", str(tmp_path / "x.dcm")]) == 2
    assert "not a DICOM file (no DICOM header)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["print", MR, "--as", "nonsense"])
    assert exc.value.code == 2


def test_wait_reports_a_failed_print_job_and_exits_1(start_printer, capsys):
    from printscp.faults import load

    running = start_printer()
    running.server.load_faults(load("film-jam"))  # the first print's job fails with FILM JAM
    code, report = run_print(capsys, running.port, MR, "--wait", "--wait-timeout", "60")
    assert code == 1
    assert list(report["print_jobs"].values()) == ["FAILURE"]
    assert any(e["event"] == "FAILURE" and e["info"] == "FILM JAM" for e in report["events"]) or any(
        s["service"] == "N-GET" and s["target"] == "Print Job" and s["detail"] == "FAILURE" for s in report["steps"])
    assert report["counts"]["failure"] == 0  # every DIMSE step succeeded; the job did not


def test_compressed_and_colour_multiframe_files_split_into_gray_and_colour_sessions(printer, capsys):
    rgb_rle = get_testdata_file("SC_rgb_rle_2frame.dcm")  # 2 frames, RLE
    ybr_jpeg = get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")  # JPEG baseline, YBR_FULL
    jpeg2000, rle = get_testdata_file("JPEG2000.dcm"), get_testdata_file("MR_small_RLE.dcm")
    (code, report), jobs = new_jobs(printer, lambda: run_print(
        capsys, printer.port, rgb_rle, "--frames", "1-2", "--layout", "STANDARD\\2,2", jpeg2000, rle, ybr_jpeg))
    assert code == 0, report
    associations = [s["detail"] for s in report["steps"] if s["service"] == "A-ASSOCIATE"]
    assert "Grayscale" in associations[0] and "Color" in associations[1]
    assert report["films"] == 2 and report["images"] == 5
    gray, color = (film(folder)[0] for folder, _ in jobs)
    assert gray.ndim == 2 and color.ndim == 3


def test_a_connection_dropped_mid_session_exits_1(start_printer, capsys):
    from printscp.faults import load

    running = start_printer()
    running.server.load_faults(load("connection-drop-on-print"))
    code, report = run_print(capsys, running.port, MR, "-td", "5")
    assert code == 1
    action = next(s for s in report["steps"] if s["service"] == "N-ACTION")
    assert action["category"] == "no-response" and report["network_error"]


def test_more_film_box_and_image_box_options_reach_the_printer(printer, capsys):
    (code, report), jobs = new_jobs(printer, lambda: run_print(
        capsys, printer.port, MR, "--min-density", "20", "--max-density", "250", "--magnification", "CUBIC",
        "--smoothing", "SHARP", "--priority", "HIGH", "--requested-image-size", "50", "--decimate-crop", "CROP",
        "--destination", "PROCESSOR", "-aet", "MY_CT", "-aec", "PRINTSCP"))
    assert code == 0, report
    (_, job), = jobs
    attrs = job["films"][0]["attributes"]
    assert (attrs["MinDensity"], attrs["MaxDensity"], attrs["SmoothingType"]) == (20, 250, "SHARP")
    box = job["films"][0]["image_boxes"][0]
    assert float(box["RequestedImageSize"]) == 50 and box["RequestedDecimateCropBehavior"] == "CROP"
    assert job["calling_ae"] == "MY_CT"
    assert job["film_session"]["PrintPriority"] == "HIGH" and job["film_session"]["FilmDestination"] == "PROCESSOR"


def test_negotiation_options(printer, capsys):
    code, report = run_print(capsys, printer.port, MR, "--implicit-only", "--max-pdu", "8192", "--no-print-job",
                             "--no-plut", "--color", "--wait")
    assert code == 0, report
    detail = report["steps"][0]["detail"]
    assert detail.startswith("accepted: Basic Color Print Management Meta (Implicit VR Little Endian)")
    assert any("did not accept the Print Job" in n for n in report["notes"])


def test_session_print_prints_every_film_with_one_n_action(printer, capsys):
    (code, report), jobs = new_jobs(printer, lambda: run_print(
        capsys, printer.port, MR, CT, MR, "--layout", "STANDARD\\2,1", "--session-print", "--wait"))
    assert code == 0, report
    actions = [s["target"] for s in report["steps"] if s["service"] == "N-ACTION"]
    assert actions == ["Film Session"]
    assert sum(len(j["films"]) for _, j in jobs) == 2
    assert list(report["print_jobs"].values()) == ["DONE"]


def test_a_rejected_association_exits_3_and_names_the_called_ae(start_printer, capsys):
    from conftest import profile_with

    strict_ae = start_printer(profile_with(association={"check_called_ae": True}))
    code, report = run_print(capsys, strict_ae.port, MR, "-aec", "NOT_THIS_ONE")
    assert code == 3
    assert "rejected the association" in report["unreachable"] and "-aec" in report["unreachable"]


def test_plut_from_a_file(printer, capsys, tmp_path):
    lut = tmp_path / "gamma.txt"
    entries = np.rint(4095 * (np.arange(256) / 255) ** 0.5).astype(int)
    lut.write_text("12\n" + " ".join(map(str, entries)))
    code, report = run_print(capsys, printer.port, MR, "--plut", str(lut))
    assert code == 0, report
    assert "N-CREATE Presentation LUT" in [f"{s['service']} {s['target']}" for s in report["steps"]]


def test_agfa_nx_demo_composes_each_film_at_film_size(printer, capsys):
    (code, report), jobs = new_jobs(printer, lambda: run_print(
        capsys, printer.port, "--demo", "--gray", "--as", "agfa-nx", "--dpi", "300"))
    assert code == 0, report
    ((folder, job),) = jobs  # one Film Session N-ACTION: one job of three films
    boxes = [f["image_boxes"][0] for f in job["films"]]
    assert [(b["Columns"], b["Rows"]) for b in boxes] == [(2400, 3000)] * 3  # 8 x 10 in at 300 dpi
    assert [f["attributes"]["FilmSizeID"] for f in job["films"]] == ["8INX10IN"] * 3
    geometry, _ = film_n(folder, 2)
    x0, _, x1, _ = bright_bbox(geometry)
    # composed at 100 mm of the 8 in film; a film-sized image prints edge to edge (docs/modality-quirks.md)
    assert (x1 - x0) / job["films"][1]["dpi"] * 25.4 == pytest.approx(100.0, abs=0.5)


def film_n(folder, number: int) -> tuple[np.ndarray, float]:
    image = Image.open(folder / f"film-{number:03d}.png")
    return np.asarray(image), float(image.info["dpi"][0])
