"""printscp profiles list/show/check and printscp conformance."""

import subprocess
import sys
import tomllib

import pytest

from printscp import profile as profiles


def run(*args):
    return subprocess.run([sys.executable, "-m", "printscp", *args], capture_output=True, text=True, timeout=60)


def test_profiles_list_names_every_shipped_profile():
    out = run("profiles", "list")
    assert out.returncode == 0
    listed = [line.split()[0] for line in out.stdout.splitlines()]
    assert listed == profiles.shipped() and "default" in listed


def test_profiles_show_prints_loadable_toml_with_defaults_filled(tmp_path):
    out = run("profiles", "show", "default")
    assert out.returncode == 0
    data = tomllib.loads(out.stdout)
    assert data["film_box"]["film_sizes"][0] == "14INX17IN"
    assert "trim_width_mm" in data["film_box"]  # a default the file may not spell out
    copy = tmp_path / "copy.toml"
    copy.write_text(out.stdout)
    assert profiles.load(copy).film_box == profiles.load("default").film_box  # round trip


def test_profiles_check_reports_each_file_and_names_the_key(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[film_box]\nfilm_sizes = ["14INX17IN"]\nmax_rowz = 4\n')
    out = run("profiles", "check", "default", str(broken))
    assert out.returncode == 2  # a config error, as from profiles show and serve
    assert "ok: default" in out.stdout
    assert str(broken) in out.stderr and "max_rowz: unknown key" in out.stderr


def test_conformance_statement_lists_what_the_profile_does(tmp_path):
    target = tmp_path / "cs.md"
    assert run("conformance", "--profile", "default", "-o", str(target)).returncode == 0
    text = target.read_text()
    p = profiles.load("default")
    assert f"| Maximum associations | {p.association.max_associations} |" in text
    for size in p.film_box.film_sizes:
        assert f"| `{size}` |" in text
    assert "Crop algorithm: centred" in text
    assert "copies collated" in text  # film_session_printing = collated


def test_conformance_follows_the_profile(tmp_path):
    source = tomllib.loads(profiles.resolve("default").read_text())
    source["film_session"]["film_session_printing"] = "unsupported"
    source["association"]["meta_sop_classes"] = ["grayscale"]
    source["film_box"]["trim"] = False
    import tomli_w
    path = tmp_path / "legacy.toml"
    path.write_text(tomli_w.dumps(source))
    text = run("conformance", "--profile", str(path)).stdout
    assert "C616" in text and "Grayscale only" in text
    assert "| Film Box | Trim (2010,0140) | not supported | — | 0x0105 |" in text


SHIPPED_CLAIMS = {
    "default": ["| Presentation LUT | `1.2.840.10008.5.1.1.23` | optional class, own context |", "copies collated"],
    "dry-laser": ["| Film Box | Film Size ID (2010,0050) | `14INX17IN`, `8INX10IN`", "Grayscale only"],
    "ihe-full": ["entries matching the bit depth", "this printer uses `DECIMATE` and also warns"],
    "ihe-restricted": ["| Transfer syntaxes | Implicit VR Little Endian (in this order) |",
                       "N-CREATE responses carry no Affected SOP Class UID", "up to 1 columns × 1 rows"],
    "color-paper": ["| Basic Color Print Management Meta |", "| Film Session | Medium Type (2000,0030) | `PAPER` |"],
    "ultrasound": ["| Image Box | Bits Stored (0028,0101) | 8 |", "`UPP110S` | 100.0 × 75.0", "`B601`"],
    "legacy": ["`C616`", "refused with 0x0211", "| Film Session | Illumination (2010,015E)",
               "also accepted as contexts of their own"],
}


@pytest.mark.parametrize("name", sorted(SHIPPED_CLAIMS))
def test_the_committed_conformance_statement_is_current_and_says_what_the_printer_does(name):
    from pathlib import Path

    from printscp.conformance import statement

    committed = (Path(__file__).parent.parent / "docs" / "conformance" / f"{name}.md").read_text()
    assert committed == statement(profiles.load(name)), f"regenerate: printscp conformance --profile {name} -o ..."
    for claim in SHIPPED_CLAIMS[name]:
        assert claim in committed
