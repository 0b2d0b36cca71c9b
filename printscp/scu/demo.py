"""Built-in test films, so the first print needs no DICOM files.

Each film is one image in STANDARD\\1,1, drawn here in 12-bit P-values (colour: 8-bit RGB):

- wedge: a 16-step gray-scale wedge over a continuous ramp, in a white frame; the step k
  has P-value round(k * 4095 / 15), so a printer's density curve can be measured on film.
- geometry: a 100 x 100 mm target sent with Requested Image Size 100 mm: a 10 mm grid, a
  80 mm circle (aspect), line pairs of 1-4 pixels (resolution) and a millimetre ruler
  whose 10 mm ticks are 3 pixels wide (true size: measure it on the film).
- smpte: after SMPTE RP 133: 50 % background, 0-100 % patches in 10 % steps, the 5 % in
  0 % and 95 % in 100 % contrast squares, line-pair bars in the centre and corners.
- color: an 8-bit RGB chart (primaries, secondaries, their half tones, a gray and a hue
  ramp); printed only when the printer accepts the Basic Color Print Management Meta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from printscp.scu.pixels import PrintImage

P_MAX = 4095
WEDGE_STEPS = 16
WEDGE_FRAME = 32  # px of white frame around the wedge image
WEDGE_SIZE = 1024  # inner width and height
GEOMETRY_PX = 1000
GEOMETRY_MM = 100.0  # Requested Image Size: 10 image pixels per mm
RULER_MAJOR_PX = 3  # width of the 10 mm ticks


@dataclass(frozen=True)
class DemoFilm:
    name: str
    title: str
    image: PrintImage


def wedge_value(step: int) -> int:
    return round(step * P_MAX / (WEDGE_STEPS - 1))


def films(color: bool = True) -> list[DemoFilm]:
    out = [DemoFilm("wedge", "gray-scale step wedge and ramp", wedge()),
           DemoFilm("geometry", "resolution and geometry, 100 mm ruler", geometry()),
           DemoFilm("smpte", "SMPTE RP 133-like test pattern", smpte())]
    if color:
        out.append(DemoFilm("color", "colour chart", color_chart()))
    return out


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text(canvas: np.ndarray, xy: tuple[int, int], text: str, value, size: int = 24) -> None:
    mask = Image.new("L", (canvas.shape[1], canvas.shape[0]), 0)
    ImageDraw.Draw(mask).text(xy, text, fill=255, font=_font(size))
    canvas[np.asarray(mask) > 127] = value


def wedge() -> PrintImage:
    n = WEDGE_SIZE + 2 * WEDGE_FRAME
    img = np.full((n, n), P_MAX, dtype=np.uint16)
    inner = img[WEDGE_FRAME:WEDGE_FRAME + WEDGE_SIZE, WEDGE_FRAME:WEDGE_FRAME + WEDGE_SIZE]
    step_w = WEDGE_SIZE // WEDGE_STEPS
    half = WEDGE_SIZE // 2
    for k in range(WEDGE_STEPS):
        inner[:half - 64, k * step_w:(k + 1) * step_w] = wedge_value(k)  # steps 0..15, 64 px wide
    inner[half - 64:half + 64, :] = P_MAX // 2
    for k in range(WEDGE_STEPS):
        _text(inner, (k * step_w + 12, half - 50), f"{k}", 0 if k > 7 else P_MAX, 28)
    _text(inner, (16, half + 10), "printscp step wedge: P = k x 4095/15; ramp 0..4095", 0, 30)
    inner[half + 64:, :] = np.rint(np.linspace(0, P_MAX, WEDGE_SIZE)).astype(np.uint16)[None, :]
    inner[:4, :] = inner[-4:, :] = inner[:, :4] = inner[:, -4:] = 0  # outline: step 15 is as white as the frame
    return PrintImage(img, 12, "demo:wedge")


def geometry() -> PrintImage:
    n, per_mm = GEOMETRY_PX, GEOMETRY_PX / GEOMETRY_MM
    img = np.full((n, n), P_MAX, dtype=np.uint16)
    ruler_top = int(92 * per_mm)
    for mm in range(0, 91, 10):  # grid above the ruler strip
        x = min(int(mm * per_mm), n - 2)
        img[:ruler_top, x:x + 2] = 0
        img[x:x + 2, :] = 0 if x < ruler_top else img[x:x + 2, :]
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(yy - 50 * per_mm, xx - 50 * per_mm)
    img[np.abs(r - 40 * per_mm) < 1.5] = 0  # 80 mm circle: round on film when the aspect is right
    for i, width in enumerate((1, 2, 3, 4)):  # line pairs: width px black, width px white
        x0, y0 = int((12 + 19 * i) * per_mm), int(12 * per_mm)
        block = img[y0:y0 + 100, x0:x0 + 100]
        block[:] = P_MAX
        for x in range(0, 100, 2 * width):
            block[:, x:x + width] = 0
        block2 = img[y0 + 120:y0 + 220, x0:x0 + 100]
        block2[:] = P_MAX
        for y in range(0, 100, 2 * width):
            block2[y:y + width, :] = 0
        _text(img, (x0 + 30, y0 - 34), f"{width} px", 0, 26)
    img[ruler_top:, :] = P_MAX
    for mm in range(0, 101):  # the ruler: 1 mm ticks 2 mm long, 5 mm 3.5 mm, 10 mm 6 mm and 3 px wide
        x = min(int(round(mm * per_mm)), n - 1)
        if mm % 10 == 0:
            length, lo, hi = 6.0, x - RULER_MAJOR_PX // 2, x + RULER_MAJOR_PX // 2 + 1
        else:
            length, lo, hi = (3.5 if mm % 5 == 0 else 2.0), x, x + 1
        img[n - int(length * per_mm):, max(lo, 0):min(hi, n)] = 0
    _text(img, (int(30 * per_mm), ruler_top + 2), "100 mm ruler: Requested Image Size 100 mm", 0, 24)
    return PrintImage(img, 12, "demo:geometry", requested_size_mm=GEOMETRY_MM)


def smpte() -> PrintImage:
    n = 1024
    img = np.full((n, n), P_MAX // 2, dtype=np.uint16)
    pct = lambda p: round(p / 100 * P_MAX)  # noqa: E731
    for i in range(0, n, 64):  # grid lines
        img[i:i + 2, :] = P_MAX
        img[:, i:i + 2] = P_MAX
    img[:3, :] = img[-3:, :] = img[:, :3] = img[:, -3:] = P_MAX  # outer frame
    centre, radius, size = n // 2, 320, 96
    for k in range(11):  # patches 0..100 % round the centre
        angle = 2 * np.pi * k / 11 - np.pi / 2
        cy, cx = int(centre + radius * np.sin(angle)), int(centre + radius * np.cos(angle))
        img[cy - size // 2:cy + size // 2, cx - size // 2:cx + size // 2] = pct(10 * k)
    for (y, x), (outer, inner) in {(96, 96): (0, 5), (96, n - 224): (100, 95)}.items():
        img[y:y + 128, x:x + 128] = pct(outer)
        img[y + 40:y + 88, x + 40:x + 88] = pct(inner)
    for (y, x) in ((centre - 64, centre - 64), (n - 192, 96), (n - 192, n - 224)):
        bars = img[y:y + 128, x:x + 128]
        bars[:] = P_MAX
        for i in range(0, 64, 2):
            bars[:64, i:i + 1] = 0  # vertical 1 px line pairs
            bars[64 + i:64 + i + 1, 64:] = 0  # horizontal
        for i in range(64, 128, 4):
            bars[:64, i:i + 2] = 0
            bars[64:, i - 64:i - 62] = 0
    _text(img, (centre - 170, centre + 90), "SMPTE RP 133-like pattern", P_MAX, 28)
    return PrintImage(img, 12, "demo:smpte")


def color_chart() -> PrintImage:
    w, h = 1200, 900
    img = np.full((h, w, 3), 255, dtype=np.uint8)
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 255, 255), (255, 0, 255), (255, 255, 0)]
    cw = w // len(colors)
    for i, c in enumerate(colors):
        img[40:300, i * cw + 10:(i + 1) * cw - 10] = c
        img[320:480, i * cw + 10:(i + 1) * cw - 10] = tuple(v // 2 for v in c)
    img[520:660, :] = np.rint(np.linspace(0, 255, w)).astype(np.uint8)[None, :, None]
    hue = np.linspace(0, 1, w)
    rgb = np.stack([np.clip(np.abs(hue * 6 - 3) - 1, 0, 1), np.clip(2 - np.abs(hue * 6 - 2), 0, 1),
                    np.clip(2 - np.abs(hue * 6 - 4), 0, 1)], axis=1)
    img[680:840, :] = np.rint(rgb * 255).astype(np.uint8)[None, :, :]
    label = np.zeros((h, w), dtype=np.uint8)
    _text(label, (20, 850), "printscp colour chart: R G B C M Y, 50 %, gray ramp, hue ramp", 1, 30)
    img[label == 1] = 0
    return PrintImage(img, 8, "demo:color")
