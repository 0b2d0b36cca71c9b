"""Medium Type set after the Film Box: viewing and density defaults follow the medium in force at
print time unless the SCU set them (PS3.4 H.4.2.2.1, PS3.14 7.3), and each medium has its own
density range ([film_box] density_ranges; paper 0.10-2.10 OD in the default profile)."""

from __future__ import annotations

import json

import numpy as np

from render_helpers import film_array
from scu import FILM_BOX, FILM_SESSION, associate, comment_of, gray_pixels, image_item, status_of

PIXELS = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (32, 1))


def print_film(printer, *, paper_first: bool, film_box_attrs=None, image_attrs=None):
    """One film on PAPER: the medium given at Film Session N-CREATE, or by N-SET after the film box."""
    before = printer.settled_jobs()
    statuses = {}
    with associate(printer.port) as scu:
        (status, _), fs_uid = scu.create_film_session(**({"MediumType": "PAPER"} if paper_first else {}))
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN", **(film_box_attrs or {}))
        statuses["film_box"] = status_of(result)
        statuses["film_box_values"] = result[1]
        item = image_item(PIXELS)
        statuses["image_box"] = status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, item,
                                                            **(image_attrs or {})))
        if not paper_first:
            statuses["medium"] = status_of(scu.n_set(FILM_SESSION, fs_uid, MediumType="PAPER"))
        action = scu.print_film_box(fb_uid)
        statuses["print"], statuses["comment"] = status_of(action), comment_of(action)
    folder = printer.wait_jobs(before + 1)[-1]
    return statuses, folder, json.loads((folder / "job.json").read_text())


def test_paper_set_later_prints_like_paper_set_first(printer):
    early, early_folder, early_job = print_film(printer, paper_first=True)
    late, late_folder, late_job = print_film(printer, paper_first=False)
    assert late["medium"] == 0 and late["print"] == 0 and early["print"] == 0
    # the N-CREATE answer had the film defaults: BLUE FILM was in force then
    values = late["film_box_values"]
    assert (values.Illumination, values.ReflectedAmbientLight, values.MaxDensity) == (2000, 10, 320)
    for job in (early_job, late_job):
        film = job["films"][0]["attributes"]
        assert (film["Illumination"], film["ReflectedAmbientLight"]) == (150, 0)
        assert (film["MinDensity"], film["MaxDensity"]) == (10, 210)
        assert job["film_session"]["MediumType"] == "PAPER"
    assert np.array_equal(film_array(early_folder), film_array(late_folder))  # the order does not matter


def test_values_the_scu_set_are_kept_and_a_density_paper_cannot_print_warns_at_print(printer):
    statuses, _, job = print_film(printer, paper_first=False,
                                  film_box_attrs={"Illumination": 1000, "MaxDensity": 300})
    assert statuses["film_box"] == 0  # 3.00 is fine on film
    assert statuses["print"] == 0xB605
    assert statuses["comment"] == "Max Density (2010,0130) 300: PAPER range is 10..210; using 210"
    film = job["films"][0]["attributes"]
    assert film["Illumination"] == 1000 and film["ReflectedAmbientLight"] == 0 and film["MaxDensity"] == 210


def test_a_density_outside_the_paper_range_is_clamped_when_set(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session(MediumType="PAPER")
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN", MaxDensity=250)
        assert status_of(result) == 0xB605 and "PAPER range is 10..210" in comment_of(result)
        status = scu.n_set(FILM_BOX, fb_uid, MinDensity=5)
        assert status_of(status) == 0xB605 and "using 10" in comment_of(status)
        uid = scu.image_box_uids(result)[0]
        assert status_of(scu.set_image_box(uid, 1, image_item(gray_pixels(8, 8, 100)), MaxDensity=300)) == 0xB605
