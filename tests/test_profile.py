import pytest

from conftest import profile_with
from printscp import profile as profiles


def test_default_profile_loads_with_its_documented_defaults():
    p = profiles.load()
    assert p.name == "default"
    assert p.film_box.film_sizes[0] == "14INX17IN"
    assert p.default_resolution == "STANDARD" and p.film_box.resolutions["STANDARD"] == 300
    assert set(p.association.meta_sop_classes) == {"grayscale", "color"}


@pytest.mark.parametrize(
    "sections, fragment",
    [
        ({"film_box": {"film_sizez": ["A4"]}}, "[film_box] film_sizez: unknown key"),
        ({"film_box": {"film_sizes": ["15INX15IN"]}}, "film_sizes: '15INX15IN' is not a Film Size ID of PS3.3"),
        ({"film_box": {"max_columns": "ten"}}, "[film_box] max_columns: expected int"),
        ({"film_session": {"film_session_printing": "sometimes"}}, "film_session_printing: 'sometimes' is not one of"),
        ({"film_box": {"min_density": 300, "max_density": 200}}, "min_density/max_density"),
        ({"image_box": {"bits_stored": [16]}}, "bits_stored: 16 is not one of"),
        ({"association": {"meta_sop_classes": []}}, "meta_sop_classes: must list at least one"),
        ({"film_box": {"resolutions": {"STANDARD": 10}}}, "resolutions.STANDARD"),
        # found by fuzzing: each loaded, then the printer refused every film or answered nonsense
        ({"film_box": {"default_min_density": 305, "default_max_density": 300}},
         "default_min_density: 305 must be below default_max_density 300"),
        ({"film_box": {"margin_mm": 1e6}}, "margin_mm/spacing_mm: must leave room for images"),
        ({"film_box": {"margin_mm": float("inf")}}, "margin_mm/spacing_mm: must leave room for images"),
        ({"film_box": {"border_density": "99999"}}, "border_density: '99999' must be BLACK, WHITE or hundredths"),
        ({"printer": {"printer_name": "P" * 65}}, "[printer] printer_name"),
        ({"printer": {"printer_name": "A\\B"}}, "[printer] printer_name"),
        ({"printer": {"date_of_last_calibration": "yesterday"}}, "must be a DICOM date, YYYYMMDD"),
        ({"printer": {"date_of_last_calibration": "20261331"}}, "must be a DICOM date, YYYYMMDD"),
        ({"printer": {"time_of_last_calibration": "99:99"}}, "must be a DICOM time, HHMMSS"),
        ({"film_session": {"medium_types": ["PAPER", "M" * 17]}}, "is not a Medium Type term"),
    ],
)
def test_a_broken_profile_names_the_key_and_the_problem(sections, fragment):
    with pytest.raises(profiles.ProfileError) as info:
        profile_with(**sections)
    assert fragment in str(info.value)


def test_an_unknown_section_and_bad_toml_are_reported_with_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[printerr]\nname = 'x'\n")
    with pytest.raises(profiles.ProfileError, match=r"bad\.toml: unknown section \[printerr\]"):
        profiles.load(bad)
    bad.write_text("[printer\n")
    with pytest.raises(profiles.ProfileError, match=r"bad\.toml: not valid TOML"):
        profiles.load(bad)
    with pytest.raises(profiles.ProfileError, match="unknown profile 'no-such-printer': shipped profiles: .*default"):
        profiles.load("no-such-printer")


def test_sorter_bins_accept_bin_numbers_without_leading_zeros():
    p = profile_with(film_session={"sorter_bins": 3})
    assert p.is_valid_destination("BIN_3") and p.is_valid_destination("MAGAZINE")
    assert not p.is_valid_destination("BIN_4")
    assert not p.is_valid_destination("BIN_03")
    assert not p.is_valid_destination("BIN_0")


def test_a_printer_may_define_its_own_film_size_ids():
    p = profile_with(film_box={"own_film_sizes": {"UPP110S": [100, 75]}, "film_sizes": ["UPP110S"]})
    assert p.film_size_mm("UPP110S", "PORTRAIT") == (100, 75)
    with pytest.raises(profiles.ProfileError, match=r"own_film_sizes.upp: a Film Size ID is upper-case"):
        profile_with(film_box={"own_film_sizes": {"upp": [100, 75]}})
    with pytest.raises(profiles.ProfileError, match="default_max_density: 400 is outside"):
        profile_with(film_box={"default_max_density": 400})


def test_a_profile_nested_too_deeply_is_not_valid_toml(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    with pytest.raises(profiles.ProfileError, match=r"deep\.toml: not valid TOML"):
        profiles.load(deep)
