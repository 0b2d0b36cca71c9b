"""DCMTK's dcmprscu, which answers N-EVENT-REPORTs while it waits for a response, still prints
when the printer's status changes in the middle of its job."""

from printscp.model import hierarchy as hierarchy_module
from dcmtk import DcmtkPrint


def test_dcmprscu_prints_through_printer_events(printer, tmp_path, monkeypatch):
    real_n_set = hierarchy_module.Hierarchy.n_set
    calls = []

    def n_set_then_change_status(self, *args, **kwargs):
        response = real_n_set(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # after the first image box: an event goes out while dcmprscu works on
            self.printer.set_status("WARNING", "SUPPLY LOW")
        if len(calls) == 3:
            self.printer.set_status("NORMAL", "NORMAL")
        return response

    monkeypatch.setattr(hierarchy_module.Hierarchy, "n_set", n_set_then_change_status)
    dcmtk = DcmtkPrint(tmp_path)
    sp = dcmtk.make_stored_print(dcmtk.make_images(4, 64, 64), 2, 2)
    before = printer.settled_jobs()
    try:
        result = dcmtk.print(sp, printer.port)
    finally:
        printer.server.printer.set_status("NORMAL", "NORMAL")
    assert result.ok, result.log
    assert "N-EVENT-REPORT RSP" in result.log  # dcmprscu got the Warning event and answered it
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    assert job["state"] == "DONE"
    assert all(s["status"] == "0x0000" for s in job["statuses"])
