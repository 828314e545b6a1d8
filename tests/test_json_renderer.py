"""The orjson renderer writes exactly the bytes of DRF's JSONRenderer, only faster."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import OrderedDict
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

from api.renderers import FastJSONRenderer

PARIS = ZoneInfo("Europe/Paris")

SAMPLES = {
    "plain": {"a": 1, "b": [True, False, None], "c": "text", "d": -(2**63), "e": 2**64 - 1},
    "empty": [[], {}, "", 0],
    "unicode": {"name": "Découpeuse « laser » — 𝄞", "quote": 'a "b" \\ c\n\t\x01'},
    "line separators": ["a\u2028b", "c\u2029d"],
    "tuples and subclasses": OrderedDict(
        [("t", (1, 2)), ("error", ErrorDetail("Requis.", code="required"))]
    ),
    "lazy text": {"label": gettext_lazy("ressource")},
    "moments": {
        "utc": dt.datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=dt.UTC),
        "paris": dt.datetime(2026, 12, 2, 10, 30, tzinfo=PARIS),
        "naive": dt.datetime(2026, 12, 2, 10, 30),
        "date": dt.date(2026, 12, 2),
        "time": dt.time(8, 30),
        "duration": dt.timedelta(minutes=90),
    },
    "other types": {
        "decimal": decimal.Decimal("12.50"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "bytes": b"raw",
        "set": sorted({3, 1, 2}),
        "generator": (n * n for n in range(3)),
    },
    "beyond 64 bits": {"big": 2**70, "small": -(2**70)},
    "keys that are not strings": {1: "one", None: "none", 2.5: "two and a half"},
}


@pytest.mark.parametrize("name", SAMPLES)
def test_it_writes_the_same_bytes_as_drfs_renderer(name):
    data = SAMPLES[name]
    if name == "other types":  # a generator can be read once
        expected = JSONRenderer().render({**data, "generator": [0, 1, 4]})
        data = {**data, "generator": (n * n for n in range(3))}
    else:
        expected = JSONRenderer().render(data)

    assert FastJSONRenderer().render(data) == expected


def test_it_escapes_line_and_paragraph_separators_like_drf():
    rendered = FastJSONRenderer().render({"name": "a\u2028b\u2029c"})

    assert rendered == b'{"name":"a\\u2028b\\u2029c"}'


def test_it_leaves_pretty_printing_to_drf():
    data = {"a": [1, 2], "b": "é"}

    for media_type, context in [("application/json; indent=4", {}), (None, {"indent": 2})]:
        assert FastJSONRenderer().render(data, media_type, context) == JSONRenderer().render(
            data, media_type, context
        )


def test_nothing_is_an_empty_body():
    assert FastJSONRenderer().render(None) == b""


def test_what_drf_cannot_write_it_refuses_too():
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"object": object()})
