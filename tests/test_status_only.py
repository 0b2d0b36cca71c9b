"""Status-only associations (PS3.4 H.3.1): a printer monitor negotiates the Printer, Print Job
and Printer Configuration Retrieval SOP Classes without a Meta SOP Class."""

from __future__ import annotations

from conftest import profile_with, wait_for
from scu import GRAY_META, PRINT_JOB, PRINTER, PRINTER_CONFIGURATION, PRINTER_INSTANCE, status_of
from test_print_job_events import EventSCU, get_job, job_uid, print_one

PRINTER_CONFIGURATION_INSTANCE = "1.2.840.10008.5.1.1.17.376"


def test_a_monitor_gets_the_printer_any_job_and_the_printer_events(start_printer):
    printer = start_printer(profile_with(print_job={"keep_finished": True}))  # the monitor polls the job
    modality = EventSCU(printer.port)
    monitor = EventSCU(printer.port, contexts=(PRINTER, PRINT_JOB, PRINTER_CONFIGURATION))
    try:
        accepted = {str(cx.abstract_syntax) for cx in monitor.assoc.accepted_contexts}
        assert accepted == {PRINTER, PRINT_JOB, PRINTER_CONFIGURATION}
        status, ds = monitor.assoc.send_n_get([], PRINTER, PRINTER_INSTANCE)
        assert status_of(status) == 0 and ds.PrinterStatus == "NORMAL" and ds.PrinterName == "PRINTSCP"
        status, ds = monitor.assoc.send_n_get([], PRINTER_CONFIGURATION, PRINTER_CONFIGURATION_INSTANCE)
        assert status_of(status) == 0 and "PrinterConfigurationSequence" in ds
        uid = job_uid(print_one(modality.scu)[0])  # another association's job
        wait_for(lambda: get_job(monitor.scu, uid).ExecutionStatus == "DONE", 20, what="the job, seen by the monitor")
        # Film Session on the Printer's context is not part of it: 0x0118
        status, _ = monitor.assoc.send_n_create(None, "1.2.840.10008.5.1.1.1", "1.2.3.4", meta_uid=PRINTER)
        assert status_of(status) == 0x0118
        printer.server.printer.set_status("FAILURE", "FILM JAM")
        wait_for(lambda: any(cls == PRINTER and t == 3 for cls, t, _ in monitor.events), 10,
                 what="the Printer Failure event on the status-only association")
        cls, event_type, info = next(e for e in monitor.events if e[0] == PRINTER)
        assert (event_type, info.PrinterStatusInfo, info.PrinterName) == (3, "FILM JAM", "PRINTSCP")
        printer.server.printer.set_status("NORMAL", "NORMAL")
        wait_for(lambda: monitor.events[-1][:2] == (PRINTER, 1), 10, what="the Normal event")
        assert monitor.assoc.is_established
    finally:
        printer.server.printer.set_status("NORMAL", "NORMAL")
        modality.close()
        monitor.close()


def test_printer_alone_is_enough(printer):
    monitor = EventSCU(printer.port, contexts=(PRINTER,))
    try:
        status, ds = monitor.assoc.send_n_get([0x21100010], PRINTER, PRINTER_INSTANCE)
        assert status_of(status) == 0 and ds.PrinterStatus == "NORMAL"
    finally:
        monitor.close()


def test_a_profile_can_refuse_status_only_associations(start_printer):
    from pynetdicom import AE
    p = start_printer(profile_with(association={"status_only": False}))
    ae = AE(ae_title="MONITOR")
    ae.add_requested_context(PRINTER)
    assoc = ae.associate("127.0.0.1", p.port, ae_title="PRINTSCP")
    try:
        assert not assoc.is_established  # its only context was refused
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()
    # the Meta SOP Class still carries the Printer
    client = EventSCU(p.port, contexts=(GRAY_META,))
    try:
        assert status_of(client.scu.get_printer()[0]) == 0
    finally:
        client.close()
