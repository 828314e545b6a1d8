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

from django.db.models import Count, F, Q

from .models import Network, NetworkSpace
from .usage import month_visits


def network_settlement(network: Network, month: dt.date) -> dict[str, Any]:
    """The matrix of visits hosted, the net of each pair and each space's balance: two queries."""
    return networks_settlement([network], month)[0]


def networks_settlement(networks: Iterable[Network], month: dt.date) -> list[dict[str, Any]]:
    """`network_settlement` for several networks, still in two queries."""
    networks = list(networks)
    if not networks:
        return []
    spaces: dict[int, set[str]] = defaultdict(set)
    for network_id, slug in NetworkSpace.objects.filter(network__in=networks).values_list(
        "network_id", "space__slug"
    ):
        spaces[network_id].add(slug)
    counts: dict[int, dict[tuple[str, str], tuple[int, int]]] = defaultdict(dict)
    rows = (
        month_visits(month)
        .filter(network__in=networks)
        .exclude(host=F("home"))
        .values("network_id", "host__slug", "home__slug")
        .annotate(visits=Count("id"), flagged=Count("id", filter=Q(flagged=True)))
        .values_list("network_id", "host__slug", "home__slug", "visits", "flagged")
    )
    for network_id, host, home, visits, flagged in rows:
        counts[network_id][(host, home)] = (visits, flagged)
        # A space that has left the network still settles the visits it hosted or sent.
        spaces[network_id].update((host, home))
    return [
        _settle(network, month, sorted(spaces[network.pk]), counts[network.pk])
        for network in networks
    ]


def _settle(
    network: Network,
    month: dt.date,
    slugs: list[str],
    counts: dict[tuple[str, str], tuple[int, int]],
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
    balances = {slug: {"hosted": 0, "made": 0, "balance": Decimal("0.00")} for slug in slugs}
    for a, b in combinations(slugs, 2):
        a_hosted_b, b_hosted_a = count(a, b), count(b, a)
        net = (a_hosted_b - b_hosted_a) * rate
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
