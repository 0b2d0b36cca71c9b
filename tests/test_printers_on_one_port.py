"""Several printers on one port, chosen by the called AE title; the called-AE check."""

import os
import signal
import subprocess
import sys

import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from conftest import profile_with, wait_for
from dcmtk import free_port, wait_for_port
from printscp import profile as profiles
from printscp.scp.server import PrintServer, Settings
from scu import COLOR_META, GRAY_META, VERIFICATION, associate, gray_pixels, make_ae


@pytest.fixture
def two_printers(tmp_path):
    """CT_FILM: the default profile; US_PAPER: grayscale-only, 8-bit, implicit VR only."""
    us = profile_with(association={"meta_sop_classes": ["grayscale"], "transfer_syntaxes": ["implicit"]},
                      image_box={"bits_stored": [8]})
    server = PrintServer(None, Settings("CT_FILM", "127.0.0.1", 0, tmp_path / "out"),
                         printers={"CT_FILM": profiles.load(), "US_PAPER": us}, default_ae=None)
    server.start()
    yield server
    server.stop(drain_timeout=30)


def negotiate(port, called, contexts):
    ae = make_ae(contexts)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    try:
        if not assoc.is_established:
            return None
        return {str(cx.abstract_syntax): str(cx.transfer_syntax[0]) for cx in assoc.accepted_contexts}
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()


def test_two_called_ae_titles_on_one_port_are_two_printers(two_printers):
    port = two_printers.port
    ct = negotiate(port, "CT_FILM", [GRAY_META, COLOR_META])
    us = negotiate(port, "US_PAPER", [GRAY_META, COLOR_META])
    assert set(ct) == {GRAY_META, COLOR_META} and ct[GRAY_META] == ExplicitVRLittleEndian
    assert set(us) == {GRAY_META} and us[GRAY_META] == ImplicitVRLittleEndian
    # the same 12-bit print: the film printer takes it, the 8-bit ultrasound printer refuses it
    with associate(port, called_ae="CT_FILM") as scu:
        assert scu.print_film([gray_pixels(16, 16, 4000)], r"STANDARD\1,1")["image_boxes"] == [0]
    with associate(port, called_ae="US_PAPER") as scu:
        assert scu.print_film([gray_pixels(16, 16, 4000)], r"STANDARD\1,1")["image_boxes"] == [0x0106]
        assert scu.get_printer()[1].PrinterName == "PRINTSCP"
    ct_printer = two_printers.printers["CT_FILM"]
    assert ct_printer.spooler.wait_idle(30)
    jobs = list(ct_printer.spooler.output_dir.glob("[0-9]*/*/job.json"))
    assert len(jobs) == 1 and ct_printer.spooler.output_dir.name == "CT_FILM"
    assert '"called_ae": "CT_FILM"' in jobs[0].read_text()


def test_an_unknown_called_ae_is_rejected_without_a_default(two_printers):
    ae = make_ae([GRAY_META])
    assoc = ae.associate("127.0.0.1", two_printers.port, ae_title="NOSUCHPRINTER")
    try:
        assert assoc.is_rejected
        primitive = assoc.acceptor.primitive
        assert (primitive.result, primitive.result_source, primitive.diagnostic) == (0x01, 0x01, 0x07)
    finally:
        ae.shutdown()


def test_a_default_printer_answers_unknown_titles(tmp_path):
    server = PrintServer(None, Settings("A", "127.0.0.1", 0, tmp_path),
                         printers={"A": profiles.load(), "B": profile_with(association={"meta_sop_classes": ["color"]})},
                         default_ae="B")
    server.start()
    try:
        assert set(negotiate(server.port, "ANYTHING", [GRAY_META, COLOR_META])) == {COLOR_META}
    finally:
        server.stop()


def test_a_lone_printer_that_checks_its_called_ae(start_printer):
    p = start_printer(profile_with(association={"check_called_ae": True}), ae_title="FILMER")
    assert negotiate(p.port, "FILMER", [VERIFICATION]) == {VERIFICATION: ExplicitVRLittleEndian}
    assert negotiate(p.port, "OTHER", [VERIFICATION]) is None


def test_member_class_contexts_when_the_profile_accepts_them(start_printer):
    film_box = "1.2.840.10008.5.1.1.2"
    strict = start_printer()
    assert negotiate(strict.port, "PRINTSCP", [GRAY_META, film_box]) == {GRAY_META: ExplicitVRLittleEndian}
    lenient = start_printer(profile_with(association={"accept_member_classes": True}))
    assert film_box in negotiate(lenient.port, "PRINTSCP", [GRAY_META, film_box])


def test_serve_with_two_printer_options(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "printscp", "serve", "--port", str(port), "--host", "127.0.0.1",
           "--output", str(tmp_path), "--printer", "CT_FILM=default", "--printer", "MAMMO=default",
           "--default-printer", "CT_FILM"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, proc=proc)
        assert negotiate(port, "MAMMO", [VERIFICATION]) and negotiate(port, "WHOEVER", [VERIFICATION])
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "CT_FILM (default), MAMMO (default) listening on port" in out


def test_a_config_file_with_a_bad_key_is_refused(tmp_path):
    config = tmp_path / "printers.toml"
    config.write_text('port = 1\nprinterz = 2\n')
    out = subprocess.run([sys.executable, "-m", "printscp", "serve", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "printerz: unknown key; did you mean 'printer'?" in out.stderr


def test_n_create_quirks_leave_out_the_class_uid_and_the_attributes(start_printer):
    p = start_printer(profile_with(quirks={"n_create_omit_affected_sop_class_uid": True,
                                           "n_create_minimal_attribute_list": True}))
    commands = []
    from pynetdicom import evt

    ae = make_ae([GRAY_META])
    assoc = ae.associate("127.0.0.1", p.port, ae_title="PRINTSCP", evt_handlers=[
        (evt.EVT_DIMSE_RECV, lambda event: commands.append(event.message.command_set))])
    try:
        from scu import PrintSCU
        scu = PrintSCU(assoc)
        (status, attrs), fs_uid = scu.create_film_session(uid=None)
        assert status.Status == 0 and not attrs  # no attribute list
        assert "AffectedSOPClassUID" not in commands[-1] and commands[-1].AffectedSOPInstanceUID
        result, _ = scu.create_film_box(str(commands[-1].AffectedSOPInstanceUID), r"STANDARD\2,1")
        assert [e.keyword for e in result[1]] == ["ReferencedImageBoxSequence"]
        assert len(result[1].ReferencedImageBoxSequence) == 2
    finally:
        assoc.release()
        ae.shutdown()
