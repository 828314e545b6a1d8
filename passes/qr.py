"""QR images of a credential (laid out in passes/codec.py): version 6 at level M, alphanumeric."""

from __future__ import annotations

import io

import qrcode
from qrcode.image.svg import SvgPathImage

MAX_VERSION = 6


def _qr(text: str, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4
    )
    code.add_data(text)
    code.make(fit=True)
    if code.version > MAX_VERSION:
        raise ValueError(f"A credential must fit a version {MAX_VERSION} QR, got {code.version}.")
    return code


def qr_version(text: str) -> int:
    return _qr(text, 1).version


def qr_svg(text: str, box_size: int = 10) -> bytes:
    buffer = io.BytesIO()
    _qr(text, box_size).make_image(image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_png(text: str, box_size: int = 8) -> bytes:
    buffer = io.BytesIO()
    _qr(text, box_size).make_image().save(buffer, format="PNG")
    return buffer.getvalue()
