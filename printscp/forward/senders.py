"""One delivery attempt: C-STORE the instances to an archive, or hand the PDF to CUPS.

Each returns an attempt record (what the outbox keeps and `forward status` shows): ok,
a one-line result, and per instance the C-STORE status, or the network error.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE

from printscp.forward.destination import Destination
from printscp.scu import requestor

# mm of the films this project renders -> the names CUPS knows; anything else is a custom size.
_MEDIA = {(210.0, 297.0): "A4", (297.0, 420.0): "A3", (215.9, 279.4): "Letter"}


def store(dest: Destination, datasets) -> dict:
    """C-STORE every instance on one association; ok only if each got Success (or a warning)."""
    ae_title, host, port = dest.address()
    ae = AE(ae_title=dest.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = dest.timeout_s
    ae.connection_timeout = dest.timeout_s
    for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    try:
        assoc = ae.associate(host, port, ae_title=ae_title)
        if assoc.is_rejected:
            return {"ok": False, "kind": "rejected", "result": f"{ae_title}@{host}:{port} rejected the association "
                    "(check its AE title and that it accepts this calling AE)"}
        if not assoc.is_established:
            return {"ok": False, "kind": "network",
                    "result": f"{ae_title}@{host}:{port} could not be reached (refused, no answer or aborted)"}
        requestor.guard(assoc)  # pynetdicom's reactor can otherwise drop a fast C-STORE response
        statuses = []
        try:
            for ds in datasets:
                status = assoc.send_c_store(ds)
                code = int(status.Status) if status is not None and "Status" in status else None
                statuses.append({"sop_instance_uid": str(ds.SOPInstanceUID), "sop_class_uid": str(ds.SOPClassUID),
                                 "status": f"0x{code:04X}" if code is not None else None,
                                 **({"error_comment": str(status.ErrorComment)}
                                    if status is not None and "ErrorComment" in status else {})})
                if code is None:
                    break  # the association went away; the rest cannot be sent either
        finally:
            if assoc.is_established:
                assoc.release()
    except OSError as exc:  # resolving the host, or the socket layer
        return {"ok": False, "kind": "network", "result": f"{host}:{port}: {exc}"}
    finally:
        ae.shutdown()
    failed = [s for s in statuses if s["status"] is None or not _success(int(s["status"], 16))]
    if len(statuses) < len(datasets) or any(s["status"] is None for s in statuses):
        return {"ok": False, "kind": "network", "result": "the association ended before every instance was stored",
                "statuses": statuses}
    if failed:
        return {"ok": False, "kind": "status",
                "result": f"{len(failed)} of {len(statuses)} C-STORE(s) failed, first {failed[0]['status']}",
                "statuses": statuses}
    return {"ok": True, "kind": "stored", "result": f"{len(statuses)} instance(s) stored", "statuses": statuses}


def _success(code: int) -> bool:
    return code == 0x0000 or code in (0x0107, 0x0116) or 0xB000 <= code <= 0xBFFF


def media(width_mm: float, height_mm: float) -> str:
    """The CUPS media name for a film size: a standard name when there is one, else Custom.WxHmm."""
    named = _MEDIA.get((round(width_mm, 1), round(height_mm, 1)))
    return named or f"Custom.{width_mm:g}x{height_mm:g}mm"


def print_pdf(dest: Destination, pdf: Path, job: dict) -> dict:
    """`lp` the job PDF at 100 % on the film's media (the PDF has one page per delivered film)."""
    films = job.get("films") or []
    width, height = films[0]["size_mm"] if films else (210.0, 297.0)
    command = ["lp", "-d", dest.queue, "-t", f"printscp job {job['job_id']}",
               "-o", f"media={media(width, height)}", "-o", "print-scaling=none", "-o", "fit-to-page=false"]
    if dest.cups_server:
        command[1:1] = ["-h", dest.cups_server]
    command.append(str(pdf))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=dest.timeout_s, check=False)
    except FileNotFoundError:
        return {"ok": False, "kind": "network", "result": "lp is not installed (Debian package cups-client)"}
    except subprocess.TimeoutExpired:
        return {"ok": False, "kind": "network", "result": f"lp did not finish within {dest.timeout_s:g} s"}
    message = (done.stdout.strip() or done.stderr.strip()).splitlines()
    line = message[-1] if message else f"lp exited {done.returncode}"
    if done.returncode != 0:
        return {"ok": False, "kind": "network", "result": line}
    return {"ok": True, "kind": "printed", "result": line, "media": media(width, height)}
