"""Who owes whom in a network for one month: each visit hosted is worth the network's day rate.

A visit counts when the host is not the member's home (a check-in at home is worth nothing to
settle). Flagged visits count too — they happened — but each cell says how many there were.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from itertools import combinations
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from coworking.months import month_first, month_last_day
from spaces.models import Space

from .models import Network, NetworkSpace, Visit


def month_visits(month: dt.date) -> QuerySet[Visit]:
    """Visits on a local date of `month` (a visit's date is already the host's local day)."""
    return Visit.objects.filter(
        date__gte=month_first(month), date__lte=month_last_day(month)
    ).order_by()


def network_settlement(network: Network, month: dt.date) -> dict[str, Any]:
    """The matrix of visits hosted, the net of each pair and each space's balance: two queries."""
    return networks_settlement([network], month)[0]


def networks_settlement(networks: Iterable[Network], month: dt.date) -> list[dict[str, Any]]:
    """`network_settlement` for several networks, still in two queries."""
    networks = list(networks)
    if not networks:
        return []
    spaces, counts = _visit_counts(networks, month)
    return [
        _settle(network, month, sorted(spaces[network.pk]), counts[network.pk])
        for network in networks
    ]


def settlement_lines(space: Space, month: dt.date) -> list[dict[str, Any]]:
    """The balance of `space` with each other space of each network it belongs to.

    `balance` is positive when the other space owes `space`. Only the visits `space` hosted or
    sent are read (not the whole network's matrix): three queries whatever the network's size.
    """
    networks = list(Network.objects.filter(spaces=space).order_by("id"))
    if not networks:
        return []
    spaces, counts = _visit_counts(networks, month, around=space)
    lines = []
    for network in networks:
        for other in sorted(spaces[network.pk] - {space.slug}):
            hosted, made, net = _pair(counts[network.pk], space.slug, other, network.day_rate)
            lines.append(
                {
                    "network": network.slug,
                    "space": other,
                    "hosted": hosted,
                    "made": made,
                    "balance": net,
                }
            )
    return lines


Counts = dict[tuple[str, str], tuple[int, int]]  # (host, home) -> (visits, flagged)


def _visit_counts(
    networks: list[Network], month: dt.date, *, around: Space | None = None
) -> tuple[dict[int, set[str]], dict[int, Counts]]:
    """Per network: its spaces' slugs and the month's visits counted per (host, home), those
    of `around` only when given. Two queries."""
    spaces: dict[int, set[str]] = defaultdict(set)
    for network_id, slug in NetworkSpace.objects.filter(network__in=networks).values_list(
        "network_id", "space__slug"
    ):
        spaces[network_id].add(slug)
    visits = month_visits(month).filter(network__in=networks).exclude(host=F("home"))
    if around is not None:
        visits = visits.filter(Q(host=around) | Q(home=around))
    counts: dict[int, Counts] = defaultdict(dict)
    rows = (
        visits.values("network_id", "host__slug", "home__slug")
        .annotate(visits=Count("id"), flagged=Count("id", filter=Q(flagged=True)))
        .values_list("network_id", "host__slug", "home__slug", "visits", "flagged")
    )
    for network_id, host, home, count, flagged in rows:
        counts[network_id][(host, home)] = (count, flagged)
        # A space that has left the network still settles the visits it hosted or sent.
        spaces[network_id].update((host, home))
    return spaces, counts


def _pair(counts: Counts, a: str, b: str, rate: Decimal) -> tuple[int, int, Decimal]:
    """Visits `a` hosted for `b`'s members, visits `b` hosted for `a`'s, and what `b` owes
    `a` for the difference (negative: `a` owes `b`). The one settlement rule."""
    a_hosted_b = counts.get((a, b), (0, 0))[0]
    b_hosted_a = counts.get((b, a), (0, 0))[0]
    return a_hosted_b, b_hosted_a, (a_hosted_b - b_hosted_a) * rate


def _settle(
    network: Network,
    month: dt.date,
    slugs: list[str],
    counts: Counts,
) -> dict[str, Any]:
    rate = network.day_rate

    def count(host: str, home: str) -> int:
        return counts.get((host, home), (0, 0))[0]

    matrix = {
        host: {
            home: {
                "count": count(host, home),
                "value": count(host, home) * rate,
                "flagged": counts.get((host, home), (0, 0))[1],
            }
            for home in slugs
            if home != host
        }
        for host in slugs
    }
    pairs = []
    balances: dict[str, dict[str, Any]] = {
        slug: {"hosted": 0, "made": 0, "balance": Decimal("0.00")} for slug in slugs
    }
    for a, b in combinations(slugs, 2):
        a_hosted_b, b_hosted_a, net = _pair(counts, a, b, rate)
        pairs.append(
            {
                "a": a,
                "b": b,
                "a_hosted_b": a_hosted_b,
                "b_hosted_a": b_hosted_a,
                "net": net,
                "creditor": a if net > 0 else b if net < 0 else None,
                "debtor": b if net > 0 else a if net < 0 else None,
            }
        )
        balances[a]["balance"] += net
        balances[b]["balance"] -= net
    for (host, home), (visits, _flagged) in counts.items():
        balances[host]["hosted"] += visits
        balances[home]["made"] += visits
    total = sum(visits for visits, _flagged in counts.values())
    return {
        "network": network.slug,
        "month": month.strftime("%Y-%m"),
        "day_rate": rate,
        "spaces": slugs,
        "matrix": matrix,
        "pairs": pairs,
        "balances": balances,
        "totals": {
            "count": total,
            "value": total * rate,
            "flagged": sum(flagged for _visits, flagged in counts.values()),
        },
    }
