"""A real Orthanc archive for the forwarding tests: own config, storage in a temporary folder, loopback ports.

Its REST API is read with httpx: a plain, well-kept HTTP client with timeouts, so the
tests check what the archive holds as any client would, not through DICOM again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx

from conftest import stop_process, wait_for
from dcmtk import free_port


class Orthanc:
    def __init__(self, folder: Path, aet: str = "TESTPACS", check_called_aet: bool = False):
        binary = shutil.which("Orthanc")
        assert binary, "Orthanc is not installed (Debian package orthanc; .ci/run installs it)"
        self.binary, self.aet, self.folder = binary, aet, Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dicom_port, self.http_port = free_port(), free_port()
        self.config = self.folder / "config.json"
        self.config.write_text(json.dumps({
            "Name": aet, "StorageDirectory": str(self.folder / "db"), "IndexDirectory": str(self.folder / "db"),
            "DicomAet": aet, "DicomPort": self.dicom_port, "HttpPort": self.http_port,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "DicomCheckCalledAet": check_called_aet,
            "Plugins": [], "HttpBindAddress": "127.0.0.1"}))
        self.proc: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.http_port}", timeout=10)

    @property
    def destination(self) -> str:
        return f"{self.aet}@127.0.0.1:{self.dicom_port}"

    def start(self) -> "Orthanc":
        log = (self.folder / "orthanc.log").open("ab")
        self.proc = subprocess.Popen([self.binary, str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._ready, 30, interval=0.1, what="Orthanc's REST API")
        return self

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"Orthanc exited: {(self.folder / 'orthanc.log').read_text()[-2000:]}"
        try:
            return self.http.get("/system").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def instances(self) -> list[str]:
        return self.http.get("/instances").json()

    def tags(self, instance: str) -> dict:
        return self.http.get(f"/instances/{instance}/simplified-tags").json()

    def file(self, instance: str) -> bytes:
        return self.http.get(f"/instances/{instance}/file").content
