"""CSV for spreadsheets: the view hands over the rows, this writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


class CSVRenderer(BaseRenderer):
    """Renders a list of rows (lists of cells); a mapping becomes one `key,value` row per item."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Iterable[Iterable[Any]] | Mapping[str, Any] | None,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        rows = data.items() if isinstance(data, Mapping) else data
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([_cell(value) for value in row] for row in rows)
        return buffer.getvalue().encode(self.charset)
