"""Association negotiation: which contexts a printer accepts, and that it keeps serving."""

import socket

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from conftest import profile_with, server_side
from scu import (ANNOTATION_BOX, COLOR_META, GRAY_META, PRESENTATION_LUT, PRINT_JOB, PRINTER_CONFIGURATION,
                 VERIFICATION, associate, make_ae)


def accepted(port, contexts, **kw):
    ae = make_ae(contexts, **kw)
    assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
    try:
        assert assoc.is_established
        return {str(cx.abstract_syntax): str(cx.transfer_syntax[0]) for cx in assoc.accepted_contexts}
    finally:
        assoc.release()
        ae.shutdown()


def test_meta_classes_verification_and_the_served_optional_classes_are_accepted(printer):
    got = accepted(printer.port, [GRAY_META, COLOR_META, VERIFICATION, PRESENTATION_LUT, PRINT_JOB,
                                  ANNOTATION_BOX, PRINTER_CONFIGURATION])
    assert set(got) == {GRAY_META, COLOR_META, VERIFICATION, PRESENTATION_LUT, ANNOTATION_BOX, PRINTER_CONFIGURATION,
                        PRINT_JOB}


def test_explicit_vr_little_endian_is_preferred_and_implicit_still_works(printer):
    assert accepted(printer.port, [GRAY_META])[GRAY_META] == ExplicitVRLittleEndian
    only_implicit = accepted(printer.port, [GRAY_META], transfer_syntaxes=[ImplicitVRLittleEndian])
    assert only_implicit[GRAY_META] == ImplicitVRLittleEndian


def test_a_grayscale_only_printer_refuses_the_color_meta_class(start_printer):
    p = start_printer(profile_with(association={"meta_sop_classes": ["grayscale"]}))
    assert set(accepted(p.port, [GRAY_META, COLOR_META])) == {GRAY_META}


def test_c_echo(printer):
    with associate(printer.port, [VERIFICATION]) as scu:
        assert scu.assoc.send_c_echo().Status == 0


def test_accepted_sockets_have_tcp_nodelay(printer):
    with associate(printer.port) as scu:
        sock = server_side(printer, scu).dul.socket.socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_the_maximum_pdu_size_is_raised(printer):
    with associate(printer.port) as scu:
        assert scu.assoc.acceptor.maximum_length == 1048576
