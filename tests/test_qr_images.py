"""The credential as a QR image: version 6 at level M, readable by a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from passes import codec
from passes.keys import verifying_key
from passes.qr import qr_png, qr_svg, qr_version
from passes.services import credential_static, pass_suspend

from .conftest import rotating_credential

pytestmark = pytest.mark.django_db


def read_qr(image: Image.Image) -> zxingcpp.Barcode:
    """The one QR code in `image`, as zxing-cpp reads it."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return found[0]


def svg_as_image(svg: bytes, scale: int = 8) -> Image.Image:
    """Rasterize qrcode's SvgPathImage: one `M x,y H.. V.. H.. z` square per dark module."""
    text = svg.decode()
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', text).group(1))
    image = Image.new("L", (size, size), 255)
    for x, y in re.findall(r"M(\d+),(\d+)H", text):
        image.putpixel((int(x), int(y)), 0)
    return image.resize((size * scale, size * scale), Image.Resampling.NEAREST)


def verified(credential: str) -> codec.Claims:
    now = timezone.now()
    claims = codec.verify(credential, lambda kid: verifying_key(kid, now))
    codec.check_validity(claims, now.timestamp())
    return claims


def test_a_credential_fits_a_version_6_qr_at_level_m(clock, alice_pass):
    credential = rotating_credential(alice_pass)

    assert qr_version(credential) <= 6
    assert qr_version(credential_static(alice_pass)) <= 6


def test_a_text_that_needs_a_larger_qr_is_refused():
    # Lower case forces byte mode: 145 characters no longer fit version 6.
    with pytest.raises(ValueError, match="version 6"):
        qr_version("cp1:" + "a" * 141)


def test_the_png_decodes_to_exactly_the_credential(clock, alice_pass):
    credential = rotating_credential(alice_pass)

    barcode = read_qr(Image.open(io.BytesIO(qr_png(credential))))

    assert barcode.text == credential
    assert barcode.ec_level == "M"
    assert barcode.extra["Version"] == "6"


def test_the_svg_decodes_to_exactly_the_credential(clock, alice_pass):
    credential = rotating_credential(alice_pass)

    assert read_qr(svg_as_image(qr_svg(credential))).text == credential


def test_my_pass_qr_png_is_a_current_credential_of_my_pass(clock, alice, alice_pass, api):
    response = api.as_(alice).get("/api/v1/me/pass/qr.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    credential = read_qr(Image.open(io.BytesIO(response.content))).text
    claims = verified(credential)
    assert claims.pass_id == alice_pass.pk
    assert claims.member_id == alice.pk
    assert claims.counter == codec.window_of(timezone.now().timestamp())


def test_my_pass_qr_svg_is_a_current_credential_of_my_pass(clock, alice, alice_pass, api):
    response = api.as_(alice).get("/api/v1/me/pass/qr.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    credential = read_qr(svg_as_image(response.content)).text
    assert credential == rotating_credential(alice_pass)
    assert verified(credential).pass_id == alice_pass.pk


def test_my_card_svg_carries_a_static_credential(clock, alice, alice_pass, api):
    response = api.as_(alice).get("/api/v1/me/pass/card.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    credential = read_qr(svg_as_image(response.content)).text
    claims = verified(credential)
    assert claims.is_static
    assert claims.counter == 0
    assert claims.pass_id == alice_pass.pk
    assert credential == credential_static(alice_pass)


@pytest.mark.parametrize("image", ["qr.png", "qr.svg", "card.svg"])
def test_a_member_without_a_pass_gets_404(clock, alice, network, signing, api, image):
    response = api.as_(alice).get(f"/api/v1/me/pass/{image}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("image", ["qr.png", "qr.svg", "card.svg"])
def test_a_suspended_pass_gets_403(clock, alice, alice_pass, camille, api, image):
    pass_suspend(pass_obj=alice_pass, actor=camille, reason="Cotisation impayée")

    response = api.as_(alice).get(f"/api/v1/me/pass/{image}")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_an_anonymous_visitor_gets_401(clock, alice_pass, api):
    response = api.get("/api/v1/me/pass/qr.png")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
