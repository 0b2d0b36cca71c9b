"""Render the reference pictures of `printscp print --demo` (docs/print-scu.md) with printscp itself.

Run from the repository root: `.venv/bin/python docs/gallery/make_demo_gallery.py`. It starts
a default printscp on a free loopback port, runs `printscp print --demo` against it and keeps
a reduced copy of each rendered film as docs/gallery/demo-<film>.png.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from PIL import Image

from printscp import profile as profiles
from printscp.cli import main
from printscp.scp.server import PrintServer, Settings
from printscp.scu import demo

OUT = Path(__file__).resolve().parent
PREVIEW_HEIGHT = 560


def render() -> list[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        server = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, Path(tmp)))
        server.start()
        try:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = main(["print", "--demo", "--port", str(server.port), "--json"])
            assert code == 0, out.getvalue()
            assert server.spooler.wait_idle(120), "the spool did not become idle"
        finally:
            server.stop(drain_timeout=60)
        jobs = sorted(p.parent for p in Path(tmp).glob("[0-9]*/*/job.json"))
        written = []
        for film, folder in zip(demo.films(), jobs):
            assert json.loads((folder / "job.json").read_text())["state"] == "DONE"
            image = Image.open(folder / "film-001.png")
            width = round(image.width * PREVIEW_HEIGHT / image.height)
            target = OUT / f"demo-{film.name}.png"
            image.resize((width, PREVIEW_HEIGHT), Image.Resampling.LANCZOS).save(target, optimize=True)
            written.append(target)
        return written


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(OUT.parents[1]))
