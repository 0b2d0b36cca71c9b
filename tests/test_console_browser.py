"""The web console in real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright) against a `printscp serve` subprocess, printed to by dcmprscu and by the
pynetdicom test SCU. Every process a test starts is ended by its own PID."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from pynetdicom import AE

from conftest import wait_for
from dcmtk import DcmtkPrint, free_port, wait_for_port
from scu import GRAY_META, associate, gray_pixels, image_item, status_of

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 30_000
PIXELS = gray_pixels(128, 128, 2000)
SHOTS = os.environ.get("PRINTSCP_SCREENSHOTS")  # a folder: docs/ screenshots are taken from this run


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """printscp serve with two printers (unknown called AE titles are rejected) and its console."""
    tmp = tmp_path_factory.mktemp("console")
    port, http = free_port(), free_port()
    out, err = tmp / "serve.out", tmp / "serve.err"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--http-port", str(http), "--output", str(tmp / "output"),
                                 "--printer", "PRINTSCP=default", "--printer", "MAMMO=default"],
                                cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
    try:
        wait_for_port(port, 30, proc, err)
        wait_for(lambda: "web console" in out.read_text() or proc.poll() is not None, 30, what="the console line")
        assert proc.poll() is None, err.read_text()
        yield {"port": port, "url": f"http://127.0.0.1:{http}", "tmp": tmp, "stderr": err}
    finally:
        if proc.poll() is None:
            proc.terminate()  # this PID only; SIGTERM lets it finish its jobs
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert "Traceback" not in err.read_text()


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    context.close()


def rows(page) -> int:
    return page.locator("tr.job").count()


def wait_new_row(page, before: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('tr.job').length > {before}", timeout=TIMEOUT_MS)


def test_a_dcmprscu_print_appears_by_itself_with_a_loaded_thumbnail(served, page):
    page.goto(served["url"] + "/")
    page.evaluate("window.notReloaded = true")
    before = rows(page)
    dcmtk = DcmtkPrint(served["tmp"] / "dcmtk")
    sp = dcmtk.make_stored_print(dcmtk.make_images(2, 256, 256), 2, 1)
    result = dcmtk.print(sp, served["port"], label="DCMTK LABEL")
    assert result.ok, result.log
    wait_new_row(page, before)
    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
    row = page.locator("tr.job").first
    assert "DCMPRSCU" in row.inner_text() and "DONE" in row.inner_text()
    page.wait_for_function("(() => { const i = document.querySelector('tr.job img.thumb');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    width = page.evaluate("document.querySelector('tr.job img.thumb').naturalWidth")
    assert 0 < width <= 480


def test_the_job_page_shows_each_status_and_explains_the_failure(served, page):
    page.goto(served["url"] + "/")
    before = rows(page)
    bad = image_item(PIXELS, PhotometricInterpretation="PALETTE COLOR")
    with associate(served["port"]) as scu:
        (_, _), fs = scu.create_film_session(FilmSessionLabel="SCU LABEL")
        fb_result, fb = scu.create_film_box(fs, r"STANDARD\1,2")
        first, second = scu.image_box_uids(fb_result)
        assert status_of(scu.set_image_box(first, 1, bad)) == 0x0106
        assert status_of(scu.set_image_box(second, 2, image_item(PIXELS))) == 0
        assert status_of(scu.print_film_box(fb)) == 0
    wait_new_row(page, before)
    page.locator("tr.job", has_text="SCU LABEL").locator("a").first.click()
    page.wait_for_selector("table.report")
    report = page.locator("table.report").inner_text()
    assert "0x0106 INVALID_ATTRIBUTE_VALUE" in report and "Photometric Interpretation" in report
    assert "A value is not allowed by the standard" in report  # the explanation
    assert report.count("0x0000 SUCCESS") >= 4
    assert page.locator("tr.failure").count() >= 1
    film = page.locator("img.film").first
    page.wait_for_function("(() => { const i = document.querySelector('img.film');"
                           " return i && i.complete && i.naturalWidth > 0; })()")
    assert film.get_attribute("src").startswith("/files/")
    full = page.locator("div.films a").first.get_attribute("href")  # click: the film at full resolution
    assert full.endswith("film-001.png")
    assert page.request.get(served["url"] + full).headers["content-type"] == "image/png"
    pdf = page.locator("a.pdf").get_attribute("href")
    assert page.request.get(served["url"] + pdf).headers["content-type"] == "application/pdf"
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "console-job.png"), full_page=True)
        page.goto(served["url"] + "/")
        page.wait_for_function("[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth)")
        page.screenshot(path=str(Path(SHOTS) / "console-jobs.png"))


def test_the_list_filters_by_label_and_by_calling_ae(served, page):
    page.goto(served["url"] + "/")
    page.fill("input[name=q]", "SCU LABEL")
    page.click("form.filters button")
    page.wait_for_url("**/?q=SCU+LABEL**")
    assert page.locator("tr.job").count() == 1 and "SCU LABEL" in page.locator("tr.job").inner_text()
    page.goto(served["url"] + "/?ae=DCMPRSCU")
    assert page.locator("tr.job").count() >= 1
    assert all("DCMPRSCU" in t for t in page.locator("tr.job").all_inner_texts())


def test_a_rejected_association_is_listed_with_its_reason(served, page):
    ae = AE(ae_title="STRANGER")
    ae.add_requested_context(GRAY_META)
    assoc = ae.associate("127.0.0.1", served["port"], ae_title="NOSUCHPRINTER")
    assert assoc.is_rejected
    ae.shutdown()
    page.goto(served["url"] + "/associations")
    row = page.locator("tr", has_text="NOSUCHPRINTER")
    wait_for(lambda: page.reload() and row.count() > 0, 20, what="the rejected association listed")
    text = row.first.inner_text()
    assert "STRANGER" in text and "rejected" in text and "called AE title not recognised" in text
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "console-nothing-printed.png"))


def set_status_on_the_page(page, url, status, info, shown):
    """Set PRINTSCP's status with the printers page's form; wait until the page shows `shown`."""
    page.goto(url + "/printers")
    form = page.locator("form.set-status[data-printer='PRINTSCP']")
    form.locator("select[name=status]").select_option(status)
    form.locator("input[name=info]").fill(info)
    form.locator("button").click()
    page.wait_for_function("document.querySelector(\"tr[data-printer='PRINTSCP'] .printer-status\")"
                           f".textContent.includes('{shown}')")


def test_changing_the_printer_status_on_the_page_changes_what_n_get_answers(served, page):
    set_status_on_the_page(page, served["url"], "FAILURE", "FILM JAM", "FILM JAM")
    try:
        with associate(served["port"]) as scu:
            status, ds = scu.get_printer()
            assert status_of(status) == 0
            assert (str(ds.PrinterStatus), str(ds.PrinterStatusInfo)) == ("FAILURE", "FILM JAM")
        with associate(served["port"], called_ae="MAMMO") as scu:  # only the printer asked for changed
            assert str(scu.get_printer()[1].PrinterStatus) == "NORMAL"
    finally:
        set_status_on_the_page(page, served["url"], "NORMAL", "", "NORMAL")


def test_a_fault_scenario_is_loaded_from_the_printers_page_and_its_counters_shown(served, page):
    page.goto(served["url"] + "/printers")
    page.select_option("#load-scenario select[name=scenario]", "c602-film-box-queue-full")
    page.click("#load-scenario button:not([type=button])")
    page.wait_for_function("document.body.innerText.includes('c602-film-box-queue-full.toml')")
    try:
        with associate(served["port"]) as scu:
            assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0xC602
        page.reload()
        counters = page.locator("table.counters").inner_text()
        assert "C602 on the first film box print" in counters and "1\t1" in counters  # matched 1, fired 1
    finally:
        page.click("#clear-faults")
        page.wait_for_function("document.body.innerText.includes('No rules loaded')")
