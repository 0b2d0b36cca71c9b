"""Where the shipped data lives: profiles and layout data (layouts/) and fault scenarios (faults/).

The repository keeps layouts/ and faults/ at the top level; a wheel or sdist build copies
them into the package as printscp/_data/ (setup.py), so an installed printscp finds them
through importlib.resources from any directory. A source checkout or editable install
has no _data/ and reads the top-level folders instead.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

PACKAGED = "_data"
SHIPPED = ("layouts", "faults")


@cache
def data_dir(name: str) -> Path:
    """The directory of shipped data `name` ("layouts" or "faults")."""
    if name not in SHIPPED:
        raise ValueError(f"no shipped data folder {name!r}")
    packaged = resources.files("printscp") / PACKAGED / name
    if packaged.is_dir():
        # a wheel installs into a real directory; resources.as_file would copy a zipped one
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / name
