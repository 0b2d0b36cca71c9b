"""Build hook: ship the repository's top-level layouts/ and faults/ inside the package.

The project keeps printer profiles, layout data and fault scenarios at the top level of
the repository; an installed printscp reads them as package data (printscp/_data/, see
printscp/resources.py). Everything else about the build is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("layouts", "faults")


class BuildWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the top-level folders in place
        for name in SHIPPED:
            source, target = HERE / name, Path(self.build_lib) / "printscp" / "_data" / name
            if target.exists():
                shutil.rmtree(target)
            for toml in sorted(source.rglob("*.toml")):
                dest = target / toml.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(toml, dest)


setup(cmdclass={"build_py": BuildWithData})
