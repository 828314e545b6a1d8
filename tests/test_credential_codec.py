"""The CP1 credential codec (SPEC §4): plain Python, no database.

Whatever a scanner reads — a damaged print, a doctored screenshot, random bytes — the codec
either returns the signed claims or raises CredentialError with a scan reason code.
"""

from __future__ import annotations

import base64
import string

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import example, given, settings
from hypothesis import strategies as st

from passes import codec
from passes.codec import Claims, CredentialError

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
U16, U32 = 2**16 - 1, 2**32 - 1
NOW = 1_796_112_000  # 2026-12-01 09:00 Paris, in unix seconds

claims_strategy = st.builds(
    Claims,
    kid=st.integers(1, 255),
    pass_id=st.integers(0, U32),
    member_id=st.integers(0, U32),
    home_space_id=st.integers(0, U16),
    issued_at=st.integers(0, U32),
    expires_at=st.integers(0, U32),
    counter=st.integers(0, U32),
)
# Anything a phone camera or a keyboard could produce, plus the lower-case spelling.
replacement_chars = st.one_of(
    st.sampled_from(BASE32 + BASE32.lower() + "0189=:-+/ \n"), st.characters()
)


def key_for(kid: int):
    """The registry of a scanner that knows one key, KEY, as `kid`."""
    return lambda asked: KEY.public_key() if asked == kid else None


def any_kid(asked: int):
    """A registry that answers every kid with KEY: a changed kid can only fail the signature."""
    return KEY.public_key()


def sample_claims(**changes: int) -> Claims:
    values = {
        "kid": 7,
        "pass_id": 41,
        "member_id": 12,
        "home_space_id": 3,
        "issued_at": NOW - 3600,
        "expires_at": NOW + 3600,
        "counter": codec.window_of(NOW),
    }
    return Claims(**{**values, **changes})


def raw_bytes(text: str) -> bytes:
    payload = text[len(codec.PREFIX) :]
    return base64.b32decode(payload + "=" * (-len(payload) % 8))


def from_raw(raw: bytes) -> str:
    return codec.PREFIX + base64.b32encode(raw).decode().rstrip("=")


def refusal_code(text, public_key_for=any_kid) -> str:
    """The code the codec refuses `text` with; fails the test if it is accepted."""
    with pytest.raises(CredentialError) as refused:
        codec.verify(text, public_key_for)
    return refused.value.code


# --- Round trip and shape --------------------------------------------------------------------


@settings(max_examples=300)
@given(claims=claims_strategy)
def test_every_valid_claims_survive_encode_decode_and_verify(claims):
    text = codec.encode(claims, KEY)

    decoded, body, signature = codec.decode(text)
    assert decoded == claims
    assert body == claims.body()
    assert len(signature) == 64
    assert codec.verify(text, key_for(claims.kid)) == claims


@settings(max_examples=300)
@given(claims=claims_strategy)
def test_the_text_is_145_upper_case_base32_characters_behind_the_prefix(claims):
    text = codec.encode(claims, KEY)

    assert len(text) == 145 == codec.TEXT_SIZE
    assert text.startswith("CP1:")
    assert set(text[4:]) <= set(BASE32)
    assert len(raw_bytes(text)) == 88


# --- Tampering -------------------------------------------------------------------------------


@settings(max_examples=500)
@given(claims=claims_strategy, data=st.data())
def test_any_single_changed_character_is_refused(claims, data):
    text = codec.encode(claims, KEY)
    position = data.draw(st.integers(0, len(text) - 1), label="position")
    replacement = data.draw(replacement_chars.filter(lambda c: c != text[position]), label="char")
    tampered = text[:position] + replacement + text[position + 1 :]

    assert refusal_code(tampered) in {"malformed", "bad_signature"}


def test_the_lower_case_spelling_of_any_letter_is_refused_as_malformed():
    text = codec.encode(sample_claims(), KEY)

    for position, char in enumerate(text):
        if char.isalpha():
            tampered = text[:position] + char.lower() + text[position + 1 :]
            assert refusal_code(tampered) == "malformed", position
    assert refusal_code(text.lower()) == "malformed"


def test_the_spare_bits_of_the_last_character_must_be_zero():
    # 88 bytes are 704 bits; 141 Base32 characters carry 705: one spelling only per credential.
    text = codec.encode(sample_claims(), KEY)
    last = BASE32.index(text[-1])
    assert last % 2 == 0
    twin = text[:-1] + BASE32[last + 1]

    assert raw_bytes(twin) == raw_bytes(text)
    assert refusal_code(twin) == "malformed"


@settings(max_examples=500)
@given(
    claims=claims_strategy,
    offset=st.integers(0, codec.RAW_SIZE - 1),
    mask=st.integers(1, 255),
)
def test_any_flipped_byte_of_the_raw_credential_is_refused(claims, offset, mask):
    raw = bytearray(raw_bytes(codec.encode(claims, KEY)))
    raw[offset] ^= mask
    tampered = from_raw(bytes(raw))

    code = refusal_code(tampered, key_for(claims.kid))

    if offset == 0:
        assert code == "malformed"  # the version byte
    elif offset == 1:
        assert code == "unknown_key"  # the kid changed to one this scanner does not know
    else:
        assert code == "bad_signature"


@settings(max_examples=300)
@given(
    claims=claims_strategy,
    offset=st.integers(1, codec.RAW_SIZE - 1),
    mask=st.integers(1, 255),
)
def test_a_flipped_byte_fails_the_signature_even_when_every_kid_is_known(claims, offset, mask):
    raw = bytearray(raw_bytes(codec.encode(claims, KEY)))
    raw[offset] ^= mask

    assert refusal_code(from_raw(bytes(raw))) == "bad_signature"


# --- Garbage in ------------------------------------------------------------------------------


def refused_or_never_raised_otherwise(text) -> None:
    try:
        codec.verify(text, any_kid)
    except CredentialError as error:
        assert error.code in {"malformed", "unknown_key", "bad_signature"}
    else:
        pytest.fail(f"{text!r} was accepted")


@settings(max_examples=500)
@given(text=st.text())
@example(text="")
@example(text="CP1:")
@example(text="CP1:" + "A" * 141)
@example(text="CP1:" + "=" * 141)
@example(text="CP1:" + "A" * 138 + "===")
@example(text="cp1:" + "A" * 141)
@example(text="CP1:" + "É" * 141)
def test_arbitrary_text_is_only_ever_refused_with_a_credential_error(text):
    refused_or_never_raised_otherwise(text)


@settings(max_examples=300)
@given(data=st.binary(max_size=200), encoding=st.sampled_from(["latin-1", "utf-8", "ascii"]))
def test_arbitrary_bytes_decoded_as_text_are_refused_with_a_credential_error(data, encoding):
    refused_or_never_raised_otherwise(data.decode(encoding, errors="replace"))


@settings(max_examples=300)
@given(payload=st.text(alphabet=BASE32 + "=", min_size=141, max_size=141))
def test_random_base32_of_the_right_length_is_refused_with_a_credential_error(payload):
    refused_or_never_raised_otherwise("CP1:" + payload)


@pytest.mark.parametrize("not_text", [None, 42, b"CP1:", ["CP1:"], 1.5])
def test_a_value_that_is_not_text_is_malformed(not_text):
    assert refusal_code(not_text) == "malformed"


@settings(max_examples=300)
@given(
    claims=claims_strategy,
    cut=st.integers(0, 144),
    extra=st.text(alphabet=BASE32 + string.whitespace + "=", min_size=1, max_size=20),
)
def test_a_truncated_or_extended_credential_is_malformed(claims, cut, extra):
    text = codec.encode(claims, KEY)

    assert refusal_code(text[:cut]) == "malformed"
    assert refusal_code(text + extra) == "malformed"
    assert refusal_code(extra + text) == "malformed"


# --- Keys ------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(claims=claims_strategy)
def test_a_credential_signed_by_another_key_is_a_bad_signature(claims):
    forged = codec.encode(claims, OTHER_KEY)

    assert refusal_code(forged, key_for(claims.kid)) == "bad_signature"


def test_a_credential_whose_kid_is_unknown_is_refused_as_unknown_key():
    text = codec.encode(sample_claims(kid=9), KEY)

    assert refusal_code(text, key_for(8)) == "unknown_key"
    assert refusal_code(text, lambda kid: None) == "unknown_key"


def test_an_unknown_key_is_reported_before_a_bad_signature():
    forged = codec.encode(sample_claims(kid=9), OTHER_KEY)

    assert refusal_code(forged, key_for(8)) == "unknown_key"


# --- Time checks -----------------------------------------------------------------------------


def validity_code(claims: Claims, now: float) -> str | None:
    try:
        codec.check_validity(claims, now)
    except CredentialError as error:
        return error.code
    return None


def test_a_credential_expired_for_more_than_the_clock_skew_is_expired():
    claims = sample_claims(expires_at=NOW - 61, counter=0)

    assert validity_code(claims, NOW) == "expired"


@pytest.mark.parametrize("seconds_ago", [0, 1, 30, 60])
def test_a_credential_expired_within_the_60_second_skew_is_still_valid(seconds_ago):
    claims = sample_claims(expires_at=NOW - seconds_ago)

    assert validity_code(claims, NOW) is None


def test_a_credential_issued_more_than_60_seconds_in_the_future_is_not_yet_valid():
    claims = sample_claims(issued_at=NOW + 61, counter=0)

    assert validity_code(claims, NOW) == "not_yet_valid"
    assert validity_code(sample_claims(issued_at=NOW + 60), NOW) is None


@pytest.mark.parametrize("shift", [-2, -1, 0, 1])
def test_a_rotating_counter_within_two_windows_back_and_one_ahead_is_accepted(shift):
    claims = sample_claims(counter=codec.window_of(NOW) + shift)

    assert validity_code(claims, NOW) is None


@pytest.mark.parametrize("shift", [-100, -3, 2, 3, 100])
def test_a_rotating_counter_outside_the_window_is_a_stale_code(shift):
    claims = sample_claims(counter=codec.window_of(NOW) + shift)

    assert validity_code(claims, NOW) == "stale_code"


def test_the_counter_window_follows_the_30_second_boundaries():
    window_start = codec.window_of(NOW) * 30
    claims = sample_claims(counter=codec.window_of(NOW) - 2)

    assert validity_code(claims, window_start + 29.999) is None
    assert validity_code(claims, window_start + 30) == "stale_code"


def test_a_static_credential_skips_the_counter_window():
    card = sample_claims(counter=0, issued_at=NOW - 86400 * 200, expires_at=NOW + 86400 * 100)

    assert card.is_static
    assert validity_code(card, NOW) is None


def test_expiry_is_checked_before_the_counter_window():
    claims = sample_claims(expires_at=NOW - 3600, counter=5)

    assert validity_code(claims, NOW) == "expired"


# --- Claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kid", -1),
        ("kid", 256),
        ("pass_id", -1),
        ("pass_id", 2**32),
        ("member_id", 2**32),
        ("home_space_id", 2**16),
        ("issued_at", -1),
        ("issued_at", 2**32),
        ("expires_at", 2**32),
        ("counter", 2**32),
        ("pass_id", 1.0),
        ("member_id", "12"),
        ("counter", None),
    ],
)
def test_claims_refuse_values_that_do_not_fit_the_body(field, value):
    with pytest.raises(ValueError, match=field):
        sample_claims(**{field: value})


def test_claims_accept_the_largest_values_that_fit():
    claims = sample_claims(
        kid=255, pass_id=U32, member_id=U32, home_space_id=U16, issued_at=U32, expires_at=U32
    )

    assert codec.verify(codec.encode(claims, KEY), key_for(255)) == claims
