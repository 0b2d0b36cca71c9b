from scu import FILM_BOX, associate, gray_pixels, status_of


def test_a_2x2_film_prints(printer):
    with associate(printer.port) as scu:
        statuses = scu.print_film([gray_pixels(64, 64, v) for v in (500, 1500, 2500, 3500)], r"STANDARD\2,2")
    assert statuses["print"] == 0
    folder, job = printer.job() if printer.wait_jobs(1) else None
    assert job["state"] == "DONE"
