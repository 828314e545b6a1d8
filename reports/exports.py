"""The CSV exports of the reports: a space's month and a network's settlement as rows, the
columns named in the reader's language. The API sends them (`?format=csv`); the CSV renderer
guards the cells against formulas."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def usage_rows(usage: dict[str, Any]) -> list[list[Any]]:
    """One row per resource, the totals, then the visits, the balances and active members."""
    bookings, visits = usage["bookings"], usage["visits"]
    figures = ("bookings", "booked_hours", "open_hours", "occupancy")
    rows: list[list[Any]] = [
        [
            _("Ressource"),
            _("Type"),
            _("Réservations"),
            _("Heures réservées"),
            _("Heures d'ouverture"),
            _("Taux d'occupation"),
        ],
        *([r["name"], r["kind"], *(r[f] for f in figures)] for r in bookings["resources"]),
        [_("Total"), "", *(bookings["totals"][f] for f in figures)],
        [],
        [_("Visites"), _("Lieu"), _("Nombre")],
        *([_("accueillies"), home, n] for home, n in visits["visits_hosted_by_home"].items()),
        *([_("faites ailleurs"), host, n] for host, n in visits["visits_made_by_host"].items()),
        [_("passages au lieu d'origine"), "", visits["home_check_ins"]],
        [_("à vérifier"), "", visits["flagged_visits"]],
        [_("visiteurs distincts"), "", visits["distinct_visitors"]],
        [],
        [_("Réseau"), _("Lieu"), _("Accueillies"), _("Faites"), _("Solde (EUR)")],
        *(
            [line["network"], line["space"], line["hosted"], line["made"], line["balance"]]
            for line in usage["settlement"]
        ),
        [],
        [_("Membres actifs"), usage["distinct_active_members"]],
    ]
    return rows


def settlement_rows(settlement: dict[str, Any]) -> list[list[Any]]:
    """The matrix (hosts in rows, homes in columns), then each space's balance, then the pairs."""
    slugs, matrix = settlement["spaces"], settlement["matrix"]
    return [
        [_("Accueil / origine"), *slugs],
        *(
            [host, *(matrix[host][home]["count"] if home != host else "" for home in slugs)]
            for host in slugs
        ),
        [],
        [_("Lieu"), _("Accueillies"), _("Faites"), _("Solde (EUR)")],
        *(
            [slug, balance["hosted"], balance["made"], balance["balance"]]
            for slug, balance in settlement["balances"].items()
        ),
        [],
        [_("Lieu A"), _("Lieu B"), _("A a accueilli B"), _("B a accueilli A"), _("Net (EUR)")],
        *(
            [pair["a"], pair["b"], pair["a_hosted_b"], pair["b_hosted_a"], pair["net"]]
            for pair in settlement["pairs"]
        ),
    ]
