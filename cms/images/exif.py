"""Location data never leaves an upload: GPS and the rest of EXIF are removed before any rendition is made.

Willow copies an original's EXIF into every JPEG and WebP rendition, so cleaning the original is what
keeps a courier's or a resident's whereabouts off the public site.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

GPS_IFD = 0x8825


def has_location(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif()
            return bool(exif and exif.get_ifd(GPS_IFD))
    except Exception:  # noqa: BLE001 - not an image Pillow reads: nothing to clean
        return False


def without_exif(data: bytes) -> bytes | None:
    """The image re-saved without EXIF (orientation applied to the pixels), or None if it has no EXIF."""
    with Image.open(io.BytesIO(data)) as im:
        if not im.getexif() and "exif" not in im.info:
            return None
        fmt = im.format
        if fmt not in ("JPEG", "WEBP", "PNG", "TIFF"):
            return None
        upright = ImageOps.exif_transpose(im)
        out = io.BytesIO()
        params = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
        if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, format=fmt, **params)
        return out.getvalue()
