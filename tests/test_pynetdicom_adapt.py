"""The pynetdicom internals printscp/scp/pynetdicom_adapt.py replaces or relies on.

Each test names one assumption; if a pynetdicom upgrade breaks it, this file fails
before a hostile peer finds out. Read the module's docstring before changing either.
"""

from __future__ import annotations

import inspect

import pynetdicom
from pynetdicom import dul, fsm
from pynetdicom.association import Association
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dimse_messages import _MESSAGE_TYPES, DIMSEMessage

from printscp.scp import pynetdicom_adapt as adapt


def test_the_pynetdicom_version_is_the_one_the_adapter_was_written_for():
    assert pynetdicom.__version__ == adapt.TESTED_WITH, (
        f"pynetdicom {pynetdicom.__version__}: re-check every assumption in pynetdicom_adapt.py, then update TESTED_WITH")


def test_the_dul_reads_pdus_through_the_method_the_adapter_replaces():
    source = inspect.getsource(dul.DULServiceProvider._is_transport_event)
    assert "self._read_pdu_data()" in source
    assert "self.socket.close()" in source  # Sta13 closes when nothing more is ready
    assert "_is_transport_event()" in inspect.getsource(dul.DULServiceProvider.run_reactor)
    assert "self.state_machine.do_action(event)" in inspect.getsource(dul.DULServiceProvider.run_reactor)


def test_an_abort_or_a_lost_connection_wakes_the_reactor_by_itself():
    """The adapter wakes the reactor for an A-RELEASE-RQ only: for an A-ABORT (Evt16) and a
    closed connection (Evt17) pynetdicom's AA-3 and AA-4 put (None, None) on the DIMSE queue."""
    for action in (fsm.AA_3, fsm.AA_4):
        assert "assoc.dimse.msg_queue.put((None, None))" in inspect.getsource(action)
    for state in ("Sta6", "Sta7", "Sta8", "Sta9", "Sta10", "Sta11", "Sta12"):
        assert fsm.TRANSITION_TABLE[("Evt16", state)] == "AA-3"
        assert fsm.TRANSITION_TABLE[("Evt17", state)] == "AA-4"
    assert adapt._WAKE_EVENTS == ("Evt12",)


def test_the_dul_still_blocks_on_recv_without_the_adapter():
    """The defect the adapter exists for: recv of the announced length, with no deadline or cap."""
    source = inspect.getsource(dul.DULServiceProvider._read_pdu_data)
    assert "self.socket.recv(pdu_length)" in source


def test_p_data_reaches_the_dimse_provider_through_receive_primitive():
    source = inspect.getsource(fsm.DT_2)
    assert "dul.assoc.dimse.receive_primitive(" in source
    assert "self.msg_queue.put(" in inspect.getsource(DIMSEServiceProvider.receive_primitive)


def test_decoded_messages_become_primitives_as_the_adapter_builds_them():
    source = inspect.getsource(DIMSEMessage.message_to_primitive)
    assert "self.command_set" in source and "self.data_set" in source
    assert "_data_set_path" in source and "_data_set_file" in source
    for field in adapt.OPERATIONS:
        assert field in _MESSAGE_TYPES
        if field != 0x0FFF:
            assert field | 0x8000 in _MESSAGE_TYPES


def test_the_reactor_serves_through_the_instance_attribute_the_adapter_replaces():
    source = inspect.getsource(Association._run_reactor)
    assert "self._serve_request(msg" in source
    assert "self.dimse.get_msg(block=False)" in source
    serve = inspect.getsource(Association._serve_request)
    assert "is_valid_request" in serve  # pynetdicom drops what fails it silently: the adapter answers first


def test_the_guards_hook_where_pynetdicom_calls():
    """_action_failed, _run_guarded and _release_now rely on these: the reactor checks for a
    release through the ACSE instance, the state machine stops the DUL before re-raising an
    action's error, it raises before acting on an event its table does not have, and the
    association's thread runs Thread.run (so an instance attribute replaces it)."""
    from pynetdicom import fsm

    assert "self.acse.is_release_requested()" in inspect.getsource(Association._run_reactor)
    action = inspect.getsource(fsm.StateMachine.do_action)
    assert "self.dul.kill_dul()" in action and "raise" in action and "TRANSITION_TABLE" in action
    assert ("Evt7", "Sta13") not in fsm.TRANSITION_TABLE and callable(fsm.ACTIONS["DT-2"][1])
    from pynetdicom.dul import DULServiceProvider
    assert "self._kill_thread = True" in inspect.getsource(DULServiceProvider.kill_dul)  # what _do_action undoes
    assert Association.run is __import__("threading").Thread.run


def test_the_acceptor_waits_for_an_associate_rq_on_the_user_queue():
    """The adapter wakes it with None when the connection ends first (rejected slots free at once)."""
    source = inspect.getsource(Association.run_reactor)
    assert "self.dul.receive_pdu(wait=True, timeout=self.acse_timeout)" in source
    assert "if primitive is None:" in source


def test_the_association_limit_counts_threads_so_printscp_counts_itself():
    from pynetdicom import acse
    source = inspect.getsource(acse.ACSE._negotiate_as_acceptor)  # where pynetdicom applies its limit
    assert "active_associations" in source and "0x02, 0x03, 0x02" in source
    assert "is_rejected" in inspect.getsource(Association.run_reactor)


def test_the_acse_timeout_is_the_artim_timer():
    source = inspect.getsource(Association.acse_timeout.fset)
    assert "artim_timer.timeout" in source


def test_associate_rq_repair_keeps_what_pynetdicom_decodes():
    import rawdicom
    from pynetdicom.pdu import A_ASSOCIATE_RQ

    identity = bytes([0x58, 0, 0, 6, 9, 0, 0, 2]) + b"me"
    pdu = rawdicom.associate_rq([(1, "1.2.840.10008.5.1.1.9")], version=3, user_extra=identity)
    repaired = adapt._judge_associate_rq(bytearray(pdu))
    assert isinstance(repaired, bytearray)
    decoded = A_ASSOCIATE_RQ()
    decoded.decode(bytes(repaired))
    primitive = decoded.to_primitive()
    assert decoded.protocol_version == 1
    assert [str(cx.abstract_syntax) for cx in primitive.presentation_context_definition_list] == [
        "1.2.840.10008.5.1.1.9"]
    assert not any(type(item).__name__ == "UserIdentityNegotiation" for item in primitive.user_information)


def test_judging_associate_rqs():
    import rawdicom

    assert adapt._judge_associate_rq(bytearray(rawdicom.associate_rq([(2, "1.2.3")]))).startswith("presentation")
    assert adapt._judge_associate_rq(bytearray(rawdicom.associate_rq([(1, "1.2.3")], version=2)))[:3] == (1, 2, 2)
    assert adapt._judge_associate_rq(bytearray(rawdicom.associate_rq([(1, "1.2.3")], app_context="1.2")))[:3] == (1, 1, 2)
    assert adapt._judge_associate_rq(bytearray(rawdicom.associate_rq([], items=b"")))[:3] == (1, 1, 2)
    broken = bytearray(rawdicom.associate_rq([(1, "1.2.3")]))
    broken[76] = 0xFF  # the first item's length now runs past the PDU
    assert "malformed" in adapt._judge_associate_rq(broken)


def test_the_doors_the_event_channel_uses_exist():
    """events.py reaches pynetdicom only through pynetdicom_adapt; these are what it relies on."""
    assert "msg_queue" in inspect.getsource(DIMSEServiceProvider.__init__)
    assert "def peek_next_pdu" in inspect.getsource(dul.DULServiceProvider)
    assert "def send_msg" in inspect.getsource(DIMSEServiceProvider)
    assert "self._run_loop_delay" in inspect.getsource(dul.DULServiceProvider.run_reactor)
    from pynetdicom import acse
    assert "to_user_queue" in inspect.getsource(acse.ACSE.is_release_requested) or \
        "receive_pdu" in inspect.getsource(acse.ACSE.is_release_requested)  # it consumes: events.py only peeks
