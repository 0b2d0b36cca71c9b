"""The fonts annotation text is set in, on film (PNG) and in the PDF, with a per-glyph fallback.

A Film Session may use any DICOM character set (PS3.3 C.12.1.1.2), so a label can hold
Latin, Greek, Cyrillic, Arabic, Hebrew, Japanese, Korean or Chinese. No single free font
has all of them: DejaVu Sans (Bitstream Vera licence) covers the alphabetic scripts, Droid
Sans Fallback (Apache 2.0) the CJK ideographs, kana and Hangul. Each character goes to
the first font that has its glyph; consecutive characters of one font form a run. Both
fonts ship inside the package (fonts/, with their licences) so output does not depend on
what the host has installed, and the PDF embeds the subsets it uses, so any viewer shows
and searches the text.
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
# (PDF font name, file), in fallback order.
FONTS = (("DejaVuSans", FONTS_DIR / "DejaVuSans.ttf"),
         ("DroidSansFallback", FONTS_DIR / "DroidSansFallbackFull.ttf"))


@functools.cache
def _coverage(index: int) -> frozenset[int]:
    """The code points the font has glyphs for, from the font reportlab parsed to register it."""
    return frozenset(pdfmetrics.getFont(pdf_font(index)).face.charToGlyph)


def font_for(char: str) -> int:
    """Index into FONTS of the first font with a glyph for `char` (the first font if none has one)."""
    code = ord(char)
    return next((i for i in range(len(FONTS)) if code in _coverage(i)), 0)


def runs(text: str) -> list[tuple[int, str]]:
    """`text` cut into (font index, substring) runs, each set in one font."""
    out: list[tuple[int, str]] = []
    for char in text:
        index = font_for(char)
        if out and out[-1][0] == index:
            out[-1] = (index, out[-1][1] + char)
        else:
            out.append((index, char))
    return out


@functools.lru_cache(maxsize=64)
def pillow_font(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS[index][1]), size)


def pdf_font(index: int) -> str:
    """The reportlab name of the font, registered (and so embedded as a subset) on first use."""
    name, path = FONTS[index]
    _register(name, str(path))
    return name


@functools.cache
def _register(name: str, path: str) -> None:
    pdfmetrics.registerFont(TTFont(name, path))
