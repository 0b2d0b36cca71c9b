"""A private CUPS scheduler for the paper tests: its own config in a temporary folder, a Unix socket,
and a queue whose device is a file, so what the printer would get can be measured.

cupsd runs its filters as the unprivileged `lp` user, so the folder is made traversable
and the output folder writable for it (pytest's tmp_path is private to root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import stop_process, wait_for

PPD = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"  # PostScript out, custom page sizes accepted


class Cups:
    def __init__(self):
        for tool in ("cupsd", "lpadmin", "lp", "lpstat"):
            assert shutil.which(tool), f"{tool} is not installed (Debian packages cups, cups-client)"
        assert Path(PPD).exists(), f"{PPD} is missing (Debian package printer-driver-cups-pdf)"
        self.root = Path(tempfile.mkdtemp(prefix="printscp-cups-"))
        self.root.chmod(0o755)
        for name in ("spool", "cache", "run", "log", "out"):
            (self.root / name).mkdir()
        (self.root / "out").chmod(0o777)
        self.socket = str(self.root / "run" / "cups.sock")
        (self.root / "cupsd.conf").write_text(
            f"Listen {self.socket}\nLogLevel warn\nWebInterface No\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")
        r = self.root
        (self.root / "cups-files.conf").write_text(
            f"FileDevice Yes\nServerRoot {r}\nRequestRoot {r}/spool\nCacheDir {r}/cache\nStateDir {r}/run\n"
            f"TempDir {r}/spool\nErrorLog {r}/log/error_log\nAccessLog {r}/log/access_log\n"
            f"PageLog {r}/log/page_log\nDataDir /usr/share/cups\nServerBin /usr/lib/cups\n")
        self.env = {**os.environ, "CUPS_SERVER": self.socket}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Cups":
        self.proc = subprocess.Popen(["cupsd", "-f", "-c", str(self.root / "cupsd.conf"),
                                      "-s", str(self.root / "cups-files.conf")],
                                     stdout=subprocess.DEVNULL, stderr=(self.root / "log" / "stderr").open("wb"))
        wait_for(self._ready, 30, interval=0.1, what="cupsd")
        return self

    def _ready(self) -> bool:
        assert self.proc.poll() is None, f"cupsd exited: {(self.root / 'log' / 'stderr').read_text()}"
        return subprocess.run(["lpstat", "-r"], env=self.env, capture_output=True, text=True).stdout.strip() \
            == "scheduler is running"

    def add_file_queue(self, name: str) -> Path:
        """A queue whose device writes each job's PostScript to out/<name>.ps."""
        out = self.root / "out" / f"{name}.ps"
        subprocess.run(["lpadmin", "-p", name, "-E", "-v", f"file://{out}", "-P", PPD],
                       env=self.env, check=True, capture_output=True)
        return out

    def stop(self) -> None:
        stop_process(self.proc)
        shutil.rmtree(self.root, ignore_errors=True)
