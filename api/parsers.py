"""The API's parsers: DRF's, plus what every request body must be before any view reads it.

A body is refused as a whole, with a 400 in the error shape, when it
- nests deeper than `MAX_DEPTH` (Python's own JSON decoder raised RecursionError, a 500, on a
  ~1,000-deep array; any recursive code reading the data would too);
- holds a string (value or key) with NUL or a lone surrogate, which no text column can store;
- holds a number that no column can: beyond 64-bit integers, or a float that overflows to
  infinity (`1e309`).
Checking the parsed data here, once, covers every field of every serializer, and the code a
view reads from `request.data` directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

from coworking.middleware import unstorable_text

# Our deepest body is a batch of scans (an object, a list, objects, their strings): 4 levels.
MAX_DEPTH = 32
# What a database integer column holds (PostgreSQL bigint, SQLite INTEGER).
INTEGER_RANGE = range(-(2**63), 2**63)


def _label(path: tuple[str | int, ...]) -> str:
    """A field name for the error: `scans.0.nonce`, `non_field_errors` for the body itself."""
    return ".".join(str(part) for part in path) or "non_field_errors"


def _refusal(path: tuple[str | int, ...], code: str, message: str) -> ValidationError:
    return ValidationError({_label(path): [ErrorDetail(message, code=code)]})


def _values(data: Any) -> Iterator[tuple[tuple[str | int, ...], int, Any]]:
    """(path, depth, value) of every value in `data`, without recursion."""
    stack: list[tuple[tuple[str | int, ...], int, Any]] = [((), 1, data)]
    while stack:
        path, depth, value = stack.pop()
        yield path, depth, value
        if isinstance(value, Mapping):
            stack.extend(((*path, key), depth + 1, item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, index), depth + 1, item) for index, item in enumerate(value))


def _too_deep() -> ParseError:
    detail = _("Données trop imbriquées : %(limit)s niveaux au plus.") % {"limit": MAX_DEPTH}
    return ParseError(detail, code="too_deep")


def check_parsed(data: Any) -> None:
    """Raise a 400 for data that the API cannot take (see the module's docstring)."""
    # Containers come out before their contents: a key is checked before the values under it,
    # so the field named in an error is always one that can be written back.
    for path, depth, value in _values(data):
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, Mapping):
            for key in value:
                problem = unstorable_text(str(key))
                if problem is not None:
                    raise _refusal(path, *problem)
        elif isinstance(value, str):
            problem = unstorable_text(value)
            if problem is not None:
                raise _refusal(path, *problem)
        elif isinstance(value, bool):
            continue
        elif (isinstance(value, int) and value not in INTEGER_RANGE) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise _refusal(path, "number_too_large", _("Nombre trop grand."))


def check_form(data: QueryDict) -> None:
    """`check_parsed` for form fields: only text there, each named by its field."""
    for key, values in data.lists():
        problem = unstorable_text(key)
        if problem is not None:
            raise _refusal((), *problem)
        for value in values:
            problem = unstorable_text(value)
            if problem is not None:
                raise _refusal((key,), *problem)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, its result checked by `check_parsed`."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # deeper than Python's stack: deeper than MAX_DEPTH too
            raise _too_deep() from None
        check_parsed(data)
        return data


class FormParser(parsers.FormParser):
    """DRF's form parser (the browsable API's forms), its fields checked as JSON's are."""

    # DRF returns Django's QueryDict; the stub names a private immutable subclass.
    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:  # type: ignore[override]
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, its fields (not its files) checked as JSON's are."""

    def parse(self, stream, media_type=None, parser_context=None) -> parsers.DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data)
        return parsed
