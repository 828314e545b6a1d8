"""The usage review over the API: a space's figures for its co-managers, the network settlement,
both as JSON or CSV (SPEC §5)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from passes.models import Pass, Visit
from spaces.models import Booking, Membership

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

MUTUALAB_USAGE = "/api/v1/spaces/mutualab/usage/"
FILATURE_USAGE = "/api/v1/spaces/filature-roubaix/usage/"
SETTLEMENT = "/api/v1/network/settlement/"
NOVEMBER = {"month": "2026-11"}


def visit(member, network, host, day: int) -> Visit:
    membership = member.memberships.get()
    pass_obj = Pass.objects.filter(member=member, network=network).first()
    pass_obj = pass_obj or Pass.objects.create(
        network=network, membership=membership, member=member
    )
    return Visit.objects.create(
        member=member,
        pass_obj=pass_obj,
        network=network,
        host=host,
        home=membership.space,
        date=dt.date(2026, 11, day),
        uses_allowance=host != membership.space,
    )


@pytest.fixture
def november(network, mutualab, filature, room, desk, alice, bob, charlie, camille, dominique):
    """November 2026: two room bookings and a desk day at Mutualab, visits both ways."""
    Booking.objects.create(
        resource=room, member=alice, start=paris(2026, 11, 3, 9), end=paris(2026, 11, 3, 11)
    )
    Booking.objects.create(
        resource=room, member=bob, start=paris(2026, 11, 4, 14), end=paris(2026, 11, 4, 15, 30)
    )
    Booking.objects.create(
        resource=desk, member=bob, start=paris(2026, 11, 5, 8, 30), end=paris(2026, 11, 5, 19)
    )
    visit(charlie, network, mutualab, 9)  # La Filature's member at Mutualab, twice
    visit(charlie, network, mutualab, 10)
    visit(alice, network, filature, 12)  # Mutualab's member at La Filature, once
    visit(alice, network, mutualab, 13)  # a check-in at home
    return network


def parse_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == code
    return body


# --- Who may read a space's usage ------------------------------------------------------------


def test_a_co_manager_reads_the_usage_of_their_space(api, camille, november):
    response = api.as_(camille).get(MUTUALAB_USAGE, NOVEMBER)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "space",
        "month",
        "bookings",
        "visits",
        "settlement",
        "distinct_active_members",
    }
    assert (body["space"], body["month"]) == ("mutualab", "2026-11")
    # Desk: 10.5 h; room: 2 + 1.5 = 3.5 h; 21 weekdays of 10.5 h open each.
    assert body["bookings"]["totals"] == {
        "bookings": 3,
        "booked_hours": 14.0,
        "open_hours": 441.0,
        "occupancy": round(14 / 441, 4),
    }
    assert body["visits"]["visits_hosted_by_home"] == {"filature-roubaix": 2}
    assert body["visits"]["visits_made_by_host"] == {"filature-roubaix": 1}
    # Mutualab hosted 2, made 1: La Filature owes 15.00 — amounts are strings, as DRF writes them.
    assert {"network": "chtipass", "space": "filature-roubaix", "balance": "15.00"}.items() <= (
        body["settlement"][0].items()
    )
    assert body["distinct_active_members"] == 2  # Alice and Bob


def test_a_co_manager_gets_404_for_another_space(api, camille, dominique, november):
    assert_error(api.as_(camille).get(FILATURE_USAGE, NOVEMBER), 404, "not_found")
    assert_error(api.as_(dominique).get(MUTUALAB_USAGE, NOVEMBER), 404, "not_found")
    assert api.as_(dominique).get(FILATURE_USAGE, NOVEMBER).status_code == 200


def test_a_member_gets_404(api, alice, november):
    assert_error(api.as_(alice).get(MUTUALAB_USAGE, NOVEMBER), 404, "not_found")


def test_an_unknown_space_is_a_404(api, camille):
    assert_error(api.as_(camille).get("/api/v1/spaces/nowhere/usage/", NOVEMBER), 404, "not_found")


def test_a_former_co_manager_gets_404(api, camille, november):
    Membership.objects.filter(member=camille).update(status=Membership.Status.ENDED)

    assert_error(api.as_(camille).get(MUTUALAB_USAGE, NOVEMBER), 404, "not_found")


def test_anonymous_gets_401(november):
    assert_error(APIClient().get(MUTUALAB_USAGE, NOVEMBER), 401, "not_authenticated")
    assert_error(APIClient().get(SETTLEMENT, NOVEMBER), 401, "not_authenticated")


def test_a_partner_key_does_not_reach_the_figures(mutualab_key, november):
    scanner = APIClient()
    scanner.credentials(HTTP_AUTHORIZATION=f"Api-Key {mutualab_key}")

    # Known, and refused: as on every other endpoint that is not for scanners.
    assert_error(scanner.get(MUTUALAB_USAGE, NOVEMBER), 403, "permission_denied")
    assert_error(scanner.get(SETTLEMENT, NOVEMBER), 403, "permission_denied")


def test_a_token_works(camille, november):
    from coworking.tokens import token_issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(member=camille)[1]}")

    assert client.get(MUTUALAB_USAGE, NOVEMBER).status_code == 200


# --- The month ------------------------------------------------------------------------------


@pytest.mark.parametrize("month", [None, "", "2026-13", "2026-00", "2026-1", "novembre", "26-11"])
def test_a_missing_or_malformed_month_is_a_400(api, camille, november, month):
    query = {} if month is None else {"month": month}

    body = assert_error(api.as_(camille).get(MUTUALAB_USAGE, query), 400, "invalid")
    assert set(body["fields"]) == {"month"}
    body = assert_error(api.as_(camille).get(SETTLEMENT, query), 400, "invalid")
    assert set(body["fields"]) == {"month"}


def test_another_space_stays_hidden_whatever_the_month(api, camille, november):
    assert_error(api.as_(camille).get(FILATURE_USAGE, {"month": "bad"}), 404, "not_found")


def test_a_month_without_activity_is_all_zeros(api, camille, november):
    body = api.as_(camille).get(MUTUALAB_USAGE, {"month": "2027-01"}).json()

    assert body["bookings"]["totals"]["bookings"] == 0
    assert body["visits"]["visits_hosted"] == 0
    assert body["distinct_active_members"] == 0


# --- CSV -------------------------------------------------------------------------------------


def test_the_usage_csv_matches_the_json(api, camille, november):
    data = api.as_(camille).get(MUTUALAB_USAGE, NOVEMBER).json()

    response = api.as_(camille).get(MUTUALAB_USAGE, {**NOVEMBER, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="usage-mutualab-2026-11.csv"'
    rows = parse_csv(response)
    resources = data["bookings"]["resources"]
    assert len(rows[0]) == 6
    assert rows[1 : 1 + len(resources)] == [
        [
            r["name"],
            r["kind"],
            str(r["bookings"]),
            str(r["booked_hours"]),
            str(r["open_hours"]),
            str(r["occupancy"]),
        ]
        for r in resources
    ]
    assert [row[:3] for row in rows[1:3]] == [
        ["Poste 01", "desk", "1"],
        ["Salle Jean Bart", "room", "2"],
    ]
    totals = rows[1 + len(resources)]
    assert totals[2:] == ["3", "14.0", "441.0", str(data["bookings"]["totals"]["occupancy"])]
    visit_lines = {(row[0], row[1]): row[2] for row in rows if len(row) == 3}
    assert visit_lines[("accueillies", "filature-roubaix")] == "2"
    assert visit_lines[("faites ailleurs", "filature-roubaix")] == "1"
    assert visit_lines[("passages au lieu d'origine", "")] == "1"
    assert ["chtipass", "filature-roubaix", "2", "1", "15.00"] in rows
    assert rows[-1] == ["Membres actifs", "2"]


def test_the_settlement_csv_matches_the_json(api, dominique, november):
    data = api.as_(dominique).get(SETTLEMENT, NOVEMBER).json()

    response = api.as_(dominique).get(SETTLEMENT, {**NOVEMBER, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"] == 'attachment; filename="settlement-chtipass-2026-11.csv"'
    )
    rows = parse_csv(response)
    slugs = data["spaces"]
    assert rows[0][1:] == slugs == ["filature-roubaix", "mutualab", "quai-tourcoing"]
    matrix = {row[0]: dict(zip(slugs, row[1:], strict=True)) for row in rows[1 : 1 + len(slugs)]}
    for host in slugs:
        for home in slugs:
            expected = "" if host == home else str(data["matrix"][host][home]["count"])
            assert matrix[host][home] == expected
    assert matrix["mutualab"]["filature-roubaix"] == "2"
    assert matrix["filature-roubaix"]["mutualab"] == "1"
    balances = {row[0]: row[1:] for row in rows[3 + len(slugs) : 3 + 2 * len(slugs)]}
    assert balances == {
        slug: [str(b["hosted"]), str(b["made"]), b["balance"]]
        for slug, b in data["balances"].items()
    }
    assert balances["mutualab"] == ["2", "1", "15.00"]
    assert balances["filature-roubaix"] == ["1", "2", "-15.00"]


def test_errors_stay_json_when_csv_is_asked(api, camille, november):
    response = api.as_(camille).get(MUTUALAB_USAGE, {"month": "x", "format": "csv"})

    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 400, "invalid")


# --- The settlement --------------------------------------------------------------------------


def test_a_co_manager_of_a_network_space_reads_the_settlement(api, camille, november):
    response = api.as_(camille).get(SETTLEMENT, NOVEMBER)

    assert response.status_code == 200
    body = response.json()
    assert body["network"] == "chtipass"
    assert body["day_rate"] == "15.00"
    assert body["matrix"]["mutualab"]["filature-roubaix"] == {
        "count": 2,
        "value": "30.00",
        "flagged": 0,
    }
    assert body["balances"]["mutualab"] == {"hosted": 2, "made": 1, "balance": "15.00"}
    assert api.as_(camille).get(SETTLEMENT, {**NOVEMBER, "network": "chtipass"}).json() == body


def test_a_plain_member_gets_403_for_the_settlement(api, alice, november):
    assert_error(api.as_(alice).get(SETTLEMENT, NOVEMBER), 403, "permission_denied")


def test_a_network_of_other_spaces_is_a_404(api, camille, november, verriere):
    from passes.models import Network, NetworkSpace

    other = Network.objects.create(slug="autre-reseau", name="Autre réseau")
    NetworkSpace.objects.create(network=other, space=verriere)

    response = api.as_(camille).get(SETTLEMENT, {**NOVEMBER, "network": "autre-reseau"})

    assert_error(response, 404, "not_found")
    assert_error(
        api.as_(camille).get(SETTLEMENT, {**NOVEMBER, "network": "nowhere"}), 404, "not_found"
    )


def test_a_co_manager_of_a_space_outside_any_network_gets_404(api, verriere):
    manager = MemberFactory()
    MembershipFactory(member=manager, space=verriere, role=Membership.Role.CO_MANAGER)

    assert_error(api.as_(manager).get(SETTLEMENT, NOVEMBER), 404, "not_found")


# --- Queries ---------------------------------------------------------------------------------


def test_the_usage_endpoint_runs_a_fixed_number_of_queries(api, camille, mutualab, november):
    api.as_(camille)
    with CaptureQueriesContext(connection) as few:
        assert api.get(MUTUALAB_USAGE, NOVEMBER).status_code == 200
    for n in range(20):
        resource = ResourceFactory(space=mutualab, name=f"Salle {n:02}")
        member = MemberFactory()
        MembershipFactory(member=member, space=mutualab)
        Booking.objects.create(
            resource=resource,
            member=member,
            start=paris(2026, 11, 10, 9),
            end=paris(2026, 11, 10, 10),
        )
    with CaptureQueriesContext(connection) as many:
        body = api.get(MUTUALAB_USAGE, NOVEMBER).json()

    assert body["bookings"]["totals"]["bookings"] == 23
    assert len(many) == len(few)
