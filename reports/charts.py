"""Charts for the summaries, drawn with matplotlib's object API (no pyplot: thread-safe)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from matplotlib.figure import Figure

FIRST_HOUR, LAST_HOUR = 7, 22  # the hours shown: a coworking day


def occupancy_heatmap_png(heatmap: Sequence[Sequence[float]], title: str) -> bytes:
    """A weekday × hour heatmap of booked hours (7 rows of 24 values), as a PNG."""
    weekdays = [_("lun"), _("mar"), _("mer"), _("jeu"), _("ven"), _("sam"), _("dim")]
    rows = [list(day[FIRST_HOUR:LAST_HOUR]) for day in heatmap]
    figure = Figure(figsize=(7.5, 2.8), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(rows, aspect="auto", cmap="YlOrRd", vmin=0)
    axes.set_yticks(range(7), labels=weekdays)
    hours = range(FIRST_HOUR, LAST_HOUR)
    axes.set_xticks(range(len(hours)), labels=[f"{hour}h" for hour in hours], fontsize=8)
    axes.set_title(title, fontsize=11)
    figure.colorbar(image, ax=axes, label=_("heures réservées"), fraction=0.03)
    # Fixed margins: tight_layout costs about a seventh of the chart (benchmarks/SUMMARIES.md).
    figure.subplots_adjust(left=0.06, right=0.99, top=0.88, bottom=0.12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
