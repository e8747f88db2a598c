"""Product pictures for the demo catalog, drawn locally with Pillow (no network, no image files).

Each picture is a soft gradient in the category's colour, a white icon for the category on a disc,
and the product's Chinese and English names underneath.
"""

import io
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 600
_SCALE = 2  # drawn at twice the size and scaled down: smooth edges without per-shape antialiasing
_CJK_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
]
_LATIN_FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", *_CJK_FONTS]

RGB = tuple[int, int, int]


def _rgb(colour: str) -> RGB:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _mix(a: RGB, b: RGB, amount: float) -> RGB:
    """Return `a` moved `amount` (0..1) of the way towards `b`."""
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))


WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)


@cache
def _font(size: int, *, latin: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return a font that has the glyphs we need, else Pillow's own default font."""
    for path in _LATIN_FONTS if latin else _CJK_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _has_cjk_font() -> bool:
    return any(Path(path).exists() for path in _CJK_FONTS)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Break `text` into at most `max_lines` lines no wider than `width`, ending with … if cut."""
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) == 2 == max_lines:  # balance two lines rather than leave one word on the second
        words = text.split()
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        fitting = [pair for pair in splits if max(draw.textlength(part, font=font) for part in pair) <= width]
        if fitting:
            lines = list(min(fitting, key=lambda pair: max(draw.textlength(part, font=font) for part in pair)))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > width:
            lines[-1] = lines[-1][:-1].rstrip(" ,")
        lines[-1] += "…"
    return lines


# Icons: drawn in "units" around the disc centre; the disc has a radius of 100 units.
Pen = Callable[[float, float], tuple[float, float]]


def _leaf(to: Pen, x: float, y: float, length: float, width: float, angle: float) -> list[tuple[float, float]]:
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    outline = []
    for side in (1, -1):
        for step in range(21):
            t = step / 20 if side == 1 else 1 - step / 20
            along, across = t * length, side * width * math.sin(math.pi * t) ** 0.9
            outline.append(to(x + along * cos - across * sin, y + along * sin + across * cos))
    return outline


def _rotated(to: Pen, points, angle: float, about=(0, 0)):
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ax, ay = about
    return [to(ax + (x - ax) * cos - (y - ay) * sin, ay + (x - ax) * sin + (y - ay) * cos) for x, y in points]


def _box(to: Pen, x0, y0, x1, y1):
    return [*to(x0, y0), *to(x1, y1)]


def _icon_tea(draw, to, u, fg, bg):
    draw.ellipse(_box(to, -72, 52, 72, 70), fill=fg)  # saucer
    draw.pieslice(_box(to, -56, -30, 56, 62), 0, 180, fill=fg)  # bowl
    draw.rectangle(_box(to, -56, 12, 56, 17), fill=fg)
    draw.ellipse(_box(to, 40, 2, 76, 38), outline=fg, width=round(9 * u))  # handle
    draw.polygon(_leaf(to, -18, -10, 62, 20, -62), fill=fg)
    draw.line([to(-16, -14), to(10, -58)], fill=bg, width=round(4 * u))  # vein


def _icon_coffee(draw, to, u, fg, bg):
    draw.rounded_rectangle(_box(to, -50, -12, 34, 68), radius=14 * u, fill=fg)
    draw.ellipse(_box(to, 16, 0, 64, 48), outline=fg, width=round(11 * u))
    for x in (-30, -8, 14):
        wave = [to(x + 6 * math.sin(t / 3), -24 - t) for t in range(0, 46, 2)]
        draw.line(wave, fill=fg, width=round(6 * u), joint="curve")
    draw.ellipse(_box(to, -30, 20, -6, 52), fill=bg)  # a coffee bean on the mug
    draw.arc(_box(to, -26, 22, -10, 50), 100, 260, fill=fg, width=round(3 * u))


def _icon_kitchen(draw, to, u, fg, bg):
    draw.rounded_rectangle(_box(to, -62, -2, 62, 64), radius=16 * u, fill=fg)
    draw.pieslice(_box(to, -60, -36, 60, 16), 180, 360, fill=fg)
    draw.rectangle(_box(to, -66, -12, 66, -4), fill=fg)
    draw.ellipse(_box(to, -10, -50, 10, -30), fill=fg)
    draw.rounded_rectangle(_box(to, -84, 8, -58, 20), radius=6 * u, fill=fg)
    draw.rounded_rectangle(_box(to, 58, 8, 84, 20), radius=6 * u, fill=fg)
    draw.line([to(-40, 30), to(40, 30)], fill=bg, width=round(4 * u))


def _icon_sports(draw, to, u, fg, bg):
    draw.rounded_rectangle(_box(to, -58, -6, 58, 6), radius=4 * u, fill=fg)  # bar
    for inner, outer, half_height in ((40, 58, 40), (62, 80, 26)):  # two plates on each side
        for side in (-1, 1):
            x0, x1 = sorted((side * inner, side * outer))
            draw.rounded_rectangle(_box(to, x0, -half_height, x1, half_height), radius=6 * u, fill=fg)


def _icon_shoe(draw, to, u, fg, bg):
    upper = [(-80, 34), (-78, -2), (-66, -14), (-46, -8), (-26, -32), (-4, -34), (20, -8), (56, 6), (80, 18), (86, 34)]
    draw.polygon([to(x, y) for x, y in upper], fill=fg)
    draw.rounded_rectangle(_box(to, -86, 32, 90, 52), radius=9 * u, fill=fg)  # sole
    draw.line([to(-82, 39), to(86, 39)], fill=bg, width=round(4 * u))
    draw.arc(_box(to, -70, -40, 70, 24), 105, 165, fill=bg, width=round(6 * u))  # side stripe
    for t in (0.3, 0.55, 0.8):  # laces across the tongue
        x, y = -26 + 46 * t, -32 + 24 * t
        draw.line([to(x - 1, y + 1), to(x - 9, y + 15)], fill=bg, width=round(4 * u))


def _icon_electronics(draw, to, u, fg, bg):
    draw.arc(_box(to, -64, -70, 64, 58), 185, 355, fill=fg, width=round(13 * u))
    draw.rounded_rectangle(_box(to, -80, -4, -44, 62), radius=14 * u, fill=fg)
    draw.rounded_rectangle(_box(to, 44, -4, 80, 62), radius=14 * u, fill=fg)
    draw.rounded_rectangle(_box(to, -52, 8, -44, 50), radius=3 * u, fill=bg)
    draw.rounded_rectangle(_box(to, 44, 8, 52, 50), radius=3 * u, fill=bg)


def _icon_stationery(draw, to, u, fg, bg):
    angle = -35
    draw.polygon(_rotated(to, [(-62, -13), (40, -13), (40, 13), (-62, 13)], angle), fill=fg)
    draw.polygon(_rotated(to, [(44, -13), (78, 0), (44, 13)], angle), fill=fg)
    draw.polygon(_rotated(to, [(68, -4), (80, 0), (68, 4)], angle), fill=bg)  # lead
    draw.polygon(_rotated(to, [(-80, -13), (-66, -13), (-66, 13), (-80, 13)], angle), fill=fg)  # eraser
    draw.line(_rotated(to, [(-62, 0), (40, 0)], angle), fill=bg, width=round(3 * u))
    draw.line(_rotated(to, [(-64, -14), (-64, 14)], angle), fill=bg, width=round(3 * u))


def _icon_home(draw, to, u, fg, bg):
    draw.polygon([to(-46, -60), to(46, -60), to(66, 4), to(-66, 4)], fill=fg)
    draw.rectangle(_box(to, -5, 4, 5, 56), fill=fg)
    draw.rounded_rectangle(_box(to, -42, 54, 42, 68), radius=7 * u, fill=fg)
    draw.line([to(-56, -6), to(56, -6)], fill=bg, width=round(3 * u))
    draw.line([to(30, 4), to(30, 26)], fill=fg, width=round(3 * u))  # pull cord
    draw.ellipse(_box(to, 26, 24, 34, 32), fill=fg)


def _icon_outdoor(draw, to, u, fg, bg):
    draw.ellipse(_box(to, 26, -64, 56, -34), fill=fg)  # sun
    draw.polygon([to(-80, 56), to(-22, -42), to(36, 56)], fill=fg)
    draw.polygon([to(-4, 56), to(40, -8), to(82, 56)], fill=fg)
    snow_line = [to(-43, -6), to(-34, -14), to(-26, -4), to(-17, -14), to(-8, -4), to(-1, -9)]
    draw.line(snow_line, fill=bg, width=round(5 * u), joint="curve")
    draw.line([to(-84, 58), to(86, 58)], fill=fg, width=round(5 * u))


ICONS = {
    "tea": _icon_tea,
    "coffee": _icon_coffee,
    "kitchen": _icon_kitchen,
    "sports": _icon_sports,
    "shoe": _icon_shoe,
    "electronics": _icon_electronics,
    "stationery": _icon_stationery,
    "home": _icon_home,
    "outdoor": _icon_outdoor,
}


def draw_product_image(*, name: str, name_en: str, label: str, colour: str, icon: str, variant: int = 0) -> bytes:
    """Return a 600x600 WebP picture for a product; `variant` shifts the shading so neighbours differ."""
    size = SIZE * _SCALE
    base = _rgb(colour)
    shade = (variant % 5) / 5  # 0..0.8: how far the gradient leans towards the deep colour
    top, bottom = _mix(base, WHITE, 0.86 - 0.06 * shade), _mix(base, WHITE, 0.52 - 0.12 * shade)
    gradient = Image.linear_gradient("L").resize((size, size))
    if variant % 2:
        gradient = gradient.transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    picture = Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), gradient)
    draw = ImageDraw.Draw(picture)

    # The disc with the category's icon.
    cx, cy, radius = size / 2, size * 0.40, size * 0.265
    u = radius / 100

    def to(x: float, y: float) -> tuple[float, float]:
        return cx + x * u, cy + y * u

    disc = _mix(base, BLACK, 0.04 * (variant % 3))
    draw.ellipse(_box(to, -112, -112, 112, 112), fill=_mix(base, WHITE, 0.35 - 0.05 * shade))
    draw.ellipse(_box(to, -100, -100, 100, 100), fill=disc)
    ICONS.get(icon, _icon_home)(draw, to, u, WHITE, disc)

    # A small category label, top left.
    ink = _mix(base, BLACK, 0.62)
    label_font = _font(22 * _SCALE, latin=not _has_cjk_font())
    pad = 14 * _SCALE
    width = draw.textlength(label, font=label_font)
    draw.rounded_rectangle(
        [pad * 2, pad * 2, pad * 2 + width + pad * 2, pad * 2 + 38 * _SCALE], radius=19 * _SCALE, fill=WHITE
    )
    draw.text((pad * 3, pad * 2 + 19 * _SCALE), label, font=label_font, fill=ink, anchor="lm")

    # The names: Chinese (when a CJK font is installed) and English, centred under the disc.
    y = size * 0.745
    if _has_cjk_font() and name:
        chinese = _font(36 * _SCALE)
        line = _wrap(draw, name, chinese, round(size * 0.86), 1)[0]
        draw.text((size / 2, y), line, font=chinese, fill=ink, anchor="mm")
        y += 50 * _SCALE
    english = _font(27 * _SCALE, latin=True)
    for line in _wrap(draw, name_en or name, english, round(size * 0.84), 2):
        draw.text((size / 2, y), line, font=english, fill=_mix(base, BLACK, 0.45), anchor="mm")
        y += 36 * _SCALE

    picture = picture.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=88, method=4)
    return out.getvalue()
