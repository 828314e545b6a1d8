"""CSV exports never hand a spreadsheet a formula (the OWASP rule for CSV injection)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from api.renderers import CSVRenderer


def written(*cells) -> list[str]:
    text = CSVRenderer().render([list(cells)]).decode()
    return next(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        " =1+1",
        "\u00a0 =1+1",  # a no-break space is skipped by spreadsheets too
        "\uff1d1+1",  # ＝ fullwidth equals
        "\uff0b1+1",  # ＋
        "\uff0d1+1",  # －
        "\uff20SUM(A1)",  # ＠
        " \uff1d1+1",
        "\tplain text after a tab",
        "\rplain text after a carriage return",
    ],
)
def test_a_text_cell_a_spreadsheet_could_run_is_prefixed_with_a_quote(cell):
    assert written(cell) == [f"'{cell}"]


@pytest.mark.parametrize(
    "cell", ["Mutualab", "Salle 1 = grande", "a+b", "", "\n", "  ", "e-mail", "2026-11"]
)
def test_ordinary_text_is_written_as_it_is(cell):
    assert written(cell) == [cell]


def test_numbers_stay_numbers_even_negative_ones():
    """Settlement balances are negative for a space that sent more visitors than it hosted: a
    spreadsheet must still add them up. Text that merely looks like a negative number is text a
    user typed (a name), and is prefixed as OWASP says."""
    assert written(-1, Decimal("-45.00"), -0.5, 0) == ["-1", "-45.00", "-0.5", "0"]
    assert written("-1") == ["'-1"]


def test_an_empty_cell_is_written_empty():
    assert written(None, "x") == ["", "x"]
