"""Serializer fields that DRF's own leave to a 500 on some input."""

from __future__ import annotations

import datetime as dt

from rest_framework import serializers


class MomentField(serializers.DateTimeField):
    """DRF's DateTimeField, but a moment without an offset that leaves the calendar once placed
    in the server's time zone (`0001-01-01`, `9999-12-31T23:59`) is a 400 `overflow`, as one
    with an offset already is: DRF checks it by converting it to UTC, which raised
    OverflowError."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")
