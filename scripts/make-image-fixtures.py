"""Writes the image fixtures of the --image tests and the example photo, with their
references computed by PIL and NumPy (torchvision's ImageNet evaluation transform, written
out: PIL's bilinear resize of the shorter side, a centre crop, then (x / 255 - mean) / std in
float32).

    python3 scripts/make-image-fixtures.py SKIMAGE_DATA_DIR

SKIMAGE_DATA_DIR holds scikit-image's sample photographs (chelsea.png, coffee.png; public
domain / CC0), e.g. from `pip download --no-deps scikit-image` unpacked. Writes
examples/chelsea.png, and in Tests/DriverTests/Images/: NAME.png|ppm|pgm with NAME.rgb (the
RGB bytes PIL decodes), the preprocessing references *.imagenet.npy, and bomb.png.

Most PNGs are written by a small encoder below, so that every colour type, bit depth, filter
type and Adam7 interlacing occurs (PIL writes few of them); PIL then decodes each one for
its reference.
"""

import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DriverTests", "Images")
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples: np.ndarray, depth: int) -> bytes:
    """One row of samples (already flattened per pixel) at `depth` bits."""
    if depth == 8:
        return bytes(samples.astype(np.uint8))
    per = 8 // depth
    out = bytearray((len(samples) * depth + 7) // 8)
    for i, value in enumerate(samples):
        out[i // per] |= int(value) << (8 - depth * (i % per + 1))
    return bytes(out)


def filtered(row: bytes, previous: bytes, bpp: int, kind: int) -> bytes:
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        if kind == 0:
            predictor = 0
        elif kind == 1:
            predictor = a
        elif kind == 2:
            predictor = b
        elif kind == 3:
            predictor = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
        out[i] = (row[i] - predictor) & 0xFF
    return bytes([kind]) + bytes(out)


def write_png(path, pixels, colour_type, depth, palette=None, interlace=False):
    """pixels: H x W (x channels) array of samples at `depth` bits."""
    height, width = pixels.shape[:2]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    flat = pixels.reshape(height, width, channels)
    bpp = max(1, channels * depth // 8)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = bytearray()
    kind = 0
    for x0, y0, dx, dy in passes if interlace else [(0, 0, 1, 1)]:
        sub = flat[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        previous = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for row in sub:
            packed = pack_row(row.reshape(-1), depth)
            raw += filtered(packed, previous, bpp, kind)
            kind = (kind + 1) % 5
            previous = packed
    data = zlib.compress(bytes(raw), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 1 if interlace else 0)
    body = chunk(b"IHDR", ihdr)
    if palette is not None:
        body += chunk(b"PLTE", bytes(palette))
    # Two IDAT chunks, as encoders split them.
    half = len(data) // 2
    body += chunk(b"IDAT", data[:half]) + chunk(b"IDAT", data[half:]) + chunk(b"IEND", b"")
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + body)


def reference(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
    with open(os.path.splitext(path)[0] + ".rgb", "wb") as file:
        file.write(rgb.tobytes())


def imagenet(path, crop):
    """torchvision's Resize(crop / 0.875) + CenterCrop(crop) + ToTensor + Normalize, on PIL."""
    image = Image.open(path).convert("RGB")
    side = crop * 256 // 224
    w, h = image.size
    if w <= h:
        size = (side, int(side * h / w))
    else:
        size = (int(side * w / h), side)
    image = image.resize(size, Image.BILINEAR)
    w, h = image.size
    top, left = int(round((h - crop) / 2.0)), int(round((w - crop) / 2.0))
    array = np.asarray(image, dtype=np.uint8)[top : top + crop, left : left + crop]
    x = (array.astype(np.float32) / np.float32(255) - MEAN) / STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    chelsea = Image.open(os.path.join(data, "chelsea.png")).convert("RGB")
    photo = chelsea.resize((300, 200), Image.LANCZOS)
    photo.save(os.path.join(ROOT, "examples", "chelsea.png"), optimize=True)
    np.save(os.path.join(OUT, "chelsea.imagenet.npy"), imagenet(os.path.join(ROOT, "examples", "chelsea.png"), 224))

    coffee = Image.open(os.path.join(data, "coffee.png")).convert("RGB")
    small = coffee.resize((61, 45), Image.LANCZOS)
    rgb = np.asarray(small, dtype=np.uint8)
    gray = np.asarray(small.convert("L"), dtype=np.uint8)
    alpha = ((np.arange(61)[None, :] * 4 + np.arange(45)[:, None]) % 256).astype(np.uint8)
    cases = {
        "gray8": (gray, 0, 8, None),
        "gray4": (gray >> 4, 0, 4, None),
        "gray2": (gray >> 6, 0, 2, None),
        "gray1": (gray >> 7, 0, 1, None),
        "graya": (np.dstack([gray, alpha]), 4, 8, None),
        "rgb": (rgb, 2, 8, None),
        "rgba": (np.dstack([rgb, alpha]), 6, 8, None),
    }
    for colours, depth in [(256, 8), (16, 4), (4, 2), (2, 1)]:
        quantized = small.quantize(colours)
        palette = quantized.getpalette()[: 3 * colours]
        cases[f"palette{depth}"] = (np.asarray(quantized, dtype=np.uint8), 3, depth, palette)
    for name, (pixels, colour_type, depth, palette) in cases.items():
        for interlace in [False, True]:
            path = os.path.join(OUT, f"{name}{'-adam7' if interlace else ''}.png")
            write_png(path, pixels, colour_type, depth, palette, interlace)
            reference(path)
    # PIL's own encoder, and the binary PPM and PGM it writes.
    small.save(os.path.join(OUT, "pil.png"))
    reference(os.path.join(OUT, "pil.png"))
    small.save(os.path.join(OUT, "ppm.ppm"))
    reference(os.path.join(OUT, "ppm.ppm"))
    small.convert("L").save(os.path.join(OUT, "pgm.pgm"))
    reference(os.path.join(OUT, "pgm.pgm"))
    # A portrait photo, cropped at an odd offset, for a 64-pixel input.
    portrait = coffee.transpose(Image.ROTATE_90).resize((97, 150), Image.LANCZOS)
    portrait.save(os.path.join(OUT, "portrait.png"))
    reference(os.path.join(OUT, "portrait.png"))
    np.save(os.path.join(OUT, "portrait.imagenet64.npy"), imagenet(os.path.join(OUT, "portrait.png"), 64))
    # A decompression bomb: a 16x16 gray image whose data inflates to 64 MB.
    bomb = zlib.compress(b"\x00" * (64 << 20), 9)
    with open(os.path.join(OUT, "bomb.png"), "wb") as file:
        file.write(
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", bomb) + chunk(b"IEND", b""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
