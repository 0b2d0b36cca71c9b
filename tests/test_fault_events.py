"""The printer-status scenarios of faults/ as an SCU sees them: Printer N-EVENT-REPORTs, and the
Print Job events of a jammed print."""

import pytest

from conftest import wait_for
from printscp.faults import load
from scu import GRAY_META
from test_print_job_events import EventSCU, job_uid, print_one

PRINTER = "1.2.840.10008.5.1.1.16"
TYPES = {1: "NORMAL", 2: "WARNING", 3: "FAILURE"}


def printer_events(client):
    return [(TYPES[t], info.PrinterStatusInfo if info else "NORMAL") for cls, t, info in client.events if cls == PRINTER]


@pytest.mark.parametrize("name, expected", [
    ("cover-open", [("FAILURE", "COVER OPEN")]),  # it closes only after 60 s
    ("printer-offline", [("FAILURE", "PRINTER OFFLINE")]),
    ("supply-empty", [("FAILURE", "SUPPLY EMPTY")]),
    ("supply-low-then-empty-then-normal", [("WARNING", "SUPPLY LOW"), ("FAILURE", "SUPPLY EMPTY"),
                                           ("NORMAL", "NORMAL")]),
])
def test_a_connected_scu_is_told_of_every_status_change(start_printer, name, expected):
    running = start_printer()
    client = EventSCU(running.port, contexts=(GRAY_META,))
    try:
        running.server.load_faults(load(name))
        wait_for(lambda: printer_events(client)[:len(expected)] == expected, timeout=20, interval=0.05,
                 what=f"the events of {name}")
        assert client.assoc.is_established
    finally:
        client.close()
        running.server.printer.set_status("NORMAL", "NORMAL")


def test_a_jammed_print_fails_with_film_jam_in_its_events(start_printer):
    running = start_printer()
    running.server.load_faults(load("film-jam"))
    client = EventSCU(running.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
        wait_for(lambda: "FAILURE" in client.job_events(), 10, what="the Print Job Failure event")
        assert client.job_events() == ["PENDING", "FAILURE"]  # the jam came before it could print
        failure = next(info for cls, t, info in client.events if cls != PRINTER and t == 4)
        assert failure.ExecutionStatusInfo == "FILM JAM"
        assert ("FAILURE", "FILM JAM") in printer_events(client)
        assert uid
    finally:
        client.close()
        running.server.printer.set_status("NORMAL", "NORMAL")
