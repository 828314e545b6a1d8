"""The dashboard's sections, shaped for the templates from `space_usage` and the settlement.

Numbers are formatted here in the active language ("12,5 h", "42 %", "15,00 €" in French),
because a template filter cannot drop trailing zeros or place the euro sign per language;
heatmap levels and bar widths are worked out here so that the page needs no inline style.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from passes.models import Network
from spaces.models import Resource, Space

HEATMAP_HOURS = range(7, 23)  # columns 07:00 to 22:00, the last one ending at 23:00
HEAT_LEVELS = 5
NO_BREAK_SPACE = "\N{NO-BREAK SPACE}"


def _number(value: float | int | Decimal, max_decimals: int = 1) -> str:
    """12.5 → "12,5" in French, "12.5" in English; no trailing zeros; grouped thousands."""
    rounded = round(float(value), max_decimals)
    decimals = next(d for d in range(max_decimals + 1) if round(rounded, d) == rounded)
    return formats.number_format(rounded, decimals, force_grouping=True)


def _unbroken(text: str) -> str:
    """A value and its unit never part at the end of a line ("12,5" / "h")."""
    return text.replace(" ", NO_BREAK_SPACE)


def _hours(value: float) -> str:
    return _unbroken(_("%(hours)s h") % {"hours": _number(value, 2)})


def _percent(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return _unbroken(_("%(percent)s %%") % {"percent": _number(ratio * 100, 1)})


def _euros(amount: Decimal, *, signed: bool = False) -> str:
    text = _unbroken(
        _("%(amount)s €") % {"amount": formats.number_format(abs(amount), 2, force_grouping=True)}
    )
    if amount < 0:
        return f"−{text}"
    return f"+{text}" if signed and amount > 0 else text


def _bar(ratio: float | None) -> str:
    """A bar's width out of 100, unlocalized: it goes into an SVG attribute."""
    return f"{min(max(ratio or 0.0, 0.0), 1.0) * 100:.1f}"


def _hour_label(hour: int) -> str:
    return _("%(hour)s h") % {"hour": hour}


def _hour_range(hour: int) -> str:
    return "{start}–{end}".format(
        start=formats.time_format(dt.time(hour), "TIME_FORMAT"),
        end=formats.time_format(dt.time((hour + 1) % 24), "TIME_FORMAT"),
    )


def _kind_label(kind: str) -> str:
    return str(dict(Resource.Kind.choices).get(kind, kind))


def figure_cards(
    space: Space, usage: dict[str, Any], settlements: list[dict[str, Any]], *, flagged_url: str
) -> list[dict[str, Any]]:
    """The figure cards at the top; the flagged visits link to `flagged_url` when there are any."""
    totals, visits = usage["bookings"]["totals"], usage["visits"]
    members = usage["bookings"]["distinct_members"]
    balance = sum(
        (s["balances"].get(space.slug, {}).get("balance", Decimal(0)) for s in settlements),
        Decimal(0),
    )
    figures = [
        (
            "bookings",
            _("Réservations"),
            _number(totals["bookings"]),
            ngettext("par %(count)s membre", "par %(count)s membres", members)
            % {"count": _number(members)},
        ),
        (
            "booked_hours",
            _("Heures réservées"),
            _hours(totals["booked_hours"]),
            _("sur %(hours)s d'ouverture") % {"hours": _hours(totals["open_hours"])},
        ),
        (
            "occupancy",
            _("Taux d'occupation"),
            _percent(totals["occupancy"]),
            _("heures réservées / heures d'ouverture"),
        ),
        (
            "active_members",
            _("Membres actifs"),
            _number(usage["distinct_active_members"]),
            _("ont réservé ou sont passés"),
        ),
        (
            "visits_hosted",
            _("Visites accueillies"),
            _number(visits["visits_hosted"]),
            ngettext(
                "%(count)s visiteur distinct",
                "%(count)s visiteurs distincts",
                visits["distinct_visitors"],
            )
            % {"count": _number(visits["distinct_visitors"])},
        ),
        (
            "visits_made",
            _("Visites faites ailleurs"),
            _number(visits["visits_made"]),
            _("par vos membres, dans le réseau"),
        ),
        (
            "flagged_visits",
            _("Visites à vérifier"),
            _number(visits["flagged_visits"]),
            _("à contrôler dans l'administration")
            if visits["flagged_visits"]
            else _("aucune ce mois-ci"),
        ),
        (
            "balance",
            _("Solde du mois"),
            _euros(balance, signed=True),
            _("positif : le réseau vous doit"),
        ),
    ]
    return [
        {
            "key": key,
            "label": label,
            "value": value,
            "hint": hint,
            "tone": _figure_tone(key, visits["flagged_visits"], balance),
            "url": flagged_url if key == "flagged_visits" and visits["flagged_visits"] else "",
        }
        for key, label, value, hint in figures
    ]


def _figure_tone(key: str, flagged: int, balance: Decimal) -> str:
    if key == "flagged_visits" and flagged:
        return "warn"
    if key == "balance" and balance:
        return "credit" if balance > 0 else "debit"
    return ""


def heatmap_grid(bookings: dict[str, Any]) -> dict[str, Any]:
    """Weekday rows × hour columns (and the transposed grid for narrow screens)."""
    grid = bookings["heatmap"]
    peak = max((grid[day][hour] for day in range(7) for hour in HEATMAP_HOURS), default=0.0)
    outside = sum(grid[day][hour] for day in range(7) for hour in range(24)) - sum(
        grid[day][hour] for day in range(7) for hour in HEATMAP_HOURS
    )
    rows: list[dict[str, Any]] = [
        {
            "weekday": day + 1,
            "short": WEEKDAYS_ABBR[day],
            "name": WEEKDAYS[day],
            "cells": [_heat_cell(day, hour, grid[day][hour], peak) for hour in HEATMAP_HOURS],
        }
        for day in range(7)
    ]
    columns = [
        {
            "hour": hour,
            "label": _hour_label(hour),
            "range": _hour_range(hour),
            "cells": [row["cells"][index] for row in rows],
        }
        for index, hour in enumerate(HEATMAP_HOURS)
    ]
    legend = [{"level": 0, "label": _hours(0)}]
    if peak:
        legend += [
            {
                "level": level,
                "label": _("jusqu'à %(hours)s") % {"hours": _hours(peak * level / HEAT_LEVELS)},
            }
            for level in range(1, HEAT_LEVELS + 1)
        ]
    busiest_day = bookings["busiest_weekdays"][0] if bookings["busiest_weekdays"] else None
    busiest_hour = bookings["busiest_hours"][0] if bookings["busiest_hours"] else None
    return {
        "rows": rows,
        "columns": columns,
        "legend": legend,
        "outside": _hours(outside) if round(outside, 2) > 0 else "",
        "first_hour": _hour_label(HEATMAP_HOURS[0]),
        "last_hour": _hour_label(HEATMAP_HOURS[-1] + 1),
        "busiest_day": busiest_day
        and {
            "name": WEEKDAYS[busiest_day["weekday"] - 1],
            "hours": _hours(busiest_day["booked_hours"]),
        },
        "busiest_hour": busiest_hour
        and {
            "range": _hour_range(busiest_hour["hour"]),
            "hours": _hours(busiest_hour["booked_hours"]),
        },
    }


def _heat_cell(day: int, hour: int, value: float, peak: float) -> dict[str, Any]:
    level = min(HEAT_LEVELS, max(1, math.ceil(value / peak * HEAT_LEVELS))) if value else 0
    return {
        "weekday": day + 1,
        "hour": hour,
        "value": f"{value:g}",
        "text": _number(value, 1) if value else "",
        "level": level,
        "label": _("%(day)s, %(range)s : %(hours)s réservées")
        % {"day": WEEKDAYS[day], "range": _hour_range(hour), "hours": _hours(value)},
    }


def resource_tables(bookings: dict[str, Any]) -> dict[str, Any]:
    """The figures by kind with their total, and by resource."""
    return {
        "kinds": [
            {**_resource_line(figures), "name": _kind_label(kind)}
            for kind, figures in bookings["kinds"].items()
            if figures["bookings"] or figures["open_hours"]
        ],
        "total": _resource_line(bookings["totals"]),
        "resources": [_resource_line(line) for line in bookings["resources"]],
    }


def _resource_line(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": figures.get("name", ""),
        "kind": _kind_label(figures["kind"]) if "kind" in figures else "",
        "bookings": _number(figures["bookings"]),
        "booked_hours": _hours(figures["booked_hours"]),
        "open_hours": _hours(figures["open_hours"]),
        "occupancy": _percent(figures["occupancy"]),
        "bar": _bar(figures["occupancy"]),
    }


def _bars(counts: dict[str, int], names: dict[str, str]) -> list[dict[str, Any]]:
    peak = max(counts.values(), default=0)
    return [
        {
            "slug": slug,
            "name": names.get(slug, slug),
            "count": _number(count),
            "bar": _bar(count / peak if peak else 0),
        }
        for slug, count in counts.items()
    ]


def visit_lists(visits: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Visits hosted by home space and made by host space, as bars scaled to the longest."""
    return {
        "hosted": _number(visits["visits_hosted"]),
        "made": _number(visits["visits_made"]),
        "by_home": _bars(visits["visits_hosted_by_home"], names),
        "by_host": _bars(visits["visits_made_by_host"], names),
        "home_check_ins": _number(visits["home_check_ins"]),
        "distinct_visitors": _number(visits["distinct_visitors"]),
    }


def settlement_table(
    settlement: dict[str, Any], network: Network, space: Space, names: dict[str, str]
) -> dict[str, Any]:
    """Host rows × home columns, each space's balance and the net of each pair."""
    slugs, matrix = settlement["spaces"], settlement["matrix"]

    def name(slug: str) -> str:
        return names.get(slug, slug)

    def cell(host: str, home: str) -> dict[str, Any] | None:
        if host == home:
            return None
        figures = matrix[host][home]
        return {
            "count": _number(figures["count"]),
            "value": _euros(figures["value"]),
            "flagged": _number(figures["flagged"]) if figures["flagged"] else "",
            "empty": not figures["count"],
            "current_column": home == space.slug,
            "label": ngettext(
                "%(host)s a accueilli %(count)s visite de membres de %(home)s (%(amount)s)",
                "%(host)s a accueilli %(count)s visites de membres de %(home)s (%(amount)s)",
                figures["count"],
            )
            % {
                "host": name(host),
                "home": name(home),
                "count": _number(figures["count"]),
                "amount": _euros(figures["value"]),
            },
        }

    balances = settlement["balances"]
    return {
        "network": network,
        "day_rate": _euros(settlement["day_rate"]),
        "total_visits": settlement["totals"]["count"],
        "total_count": _number(settlement["totals"]["count"]),
        "total_value": _euros(settlement["totals"]["value"]),
        "homes": [
            {"slug": slug, "name": name(slug), "current": slug == space.slug} for slug in slugs
        ],
        "rows": [
            {
                "slug": host,
                "name": name(host),
                "current": host == space.slug,
                "cells": [cell(host, home) for home in slugs],
            }
            for host in slugs
        ],
        "balances": [
            {
                "slug": slug,
                "name": name(slug),
                "current": slug == space.slug,
                "hosted": _number(balances[slug]["hosted"]),
                "made": _number(balances[slug]["made"]),
                "balance": _euros(balances[slug]["balance"], signed=True),
                "tone": _balance_tone(balances[slug]["balance"]),
            }
            for slug in slugs
        ],
        "pairs": [_pair_line(pair, space, name) for pair in settlement["pairs"]],
    }


def _balance_tone(amount: Decimal) -> str:
    return "credit" if amount > 0 else "debit" if amount < 0 else "even"


def _pair_line(pair: dict[str, Any], space: Space, name: Callable[[str], str]) -> dict[str, Any]:
    if pair["net"]:
        text = _("%(debtor)s doit %(amount)s à %(creditor)s") % {
            "debtor": name(pair["debtor"]),
            "creditor": name(pair["creditor"]),
            "amount": _euros(abs(pair["net"])),
        }
    else:
        text = _("%(a)s et %(b)s sont à l'équilibre") % {"a": name(pair["a"]), "b": name(pair["b"])}
    return {
        "text": text,
        "detail": _("visites accueillies : %(a)s %(a_count)s, %(b)s %(b_count)s")
        % {
            "a": name(pair["a"]),
            "b": name(pair["b"]),
            "a_count": _number(pair["a_hosted_b"]),
            "b_count": _number(pair["b_hosted_a"]),
        },
        "current": space.slug in (pair["a"], pair["b"]),
        "tone": _pair_tone(pair, space),
    }


def _pair_tone(pair: dict[str, Any], space: Space) -> str:
    """From the current space's side: what it is owed, what it owes, or nothing of its own."""
    if pair["creditor"] == space.slug:
        return "credit"
    if pair["debtor"] == space.slug:
        return "debit"
    return "even" if not pair["net"] else ""
