"""Settlement between the spaces of a network, and the visit figures of one space (SPEC §3).

November 2026 in the ch'tipass network (day rate 15.00), hosts in rows, homes in columns:

                    filature-roubaix   mutualab   quai-tourcoing
  filature-roubaix         —              5             0
  mutualab                 3 (1 flagged)  —             1
  quai-tourcoing           4 (1 flagged)  2             —

Check-ins at home, visits in October or December and visits in another network count for nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passes.models import Network, NetworkSpace, Pass, Visit
from passes.settlement import network_settlement
from reports.usage import space_usage
from reports.visit_usage import visit_usage
from spaces.models import Booking

from .conftest import paris
from .factories import MemberFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

NOVEMBER = dt.date(2026, 11, 1)
FILATURE, MUTUALAB, QUAI = "filature-roubaix", "mutualab", "quai-tourcoing"


def a_pass(member, network, space) -> Pass:
    membership = member.memberships.get(space=space)
    return Pass.objects.create(network=network, membership=membership, member=member)


def visit(pass_obj: Pass, host, day: int, *, month: int = 11, flagged: bool = False) -> Visit:
    home = pass_obj.membership.space
    return Visit.objects.create(
        member=pass_obj.member,
        pass_obj=pass_obj,
        network=pass_obj.network,
        host=host,
        home=home,
        date=dt.date(2026, month, day),
        uses_allowance=host != home,
        flagged=flagged,
    )


@pytest.fixture
def quentin(quai):
    member = MemberFactory(first_name="Quentin")
    MembershipFactory(member=member, space=quai)
    return member


@pytest.fixture
def november(network, mutualab, filature, quai, verriere, alice, bob, charlie, quentin):
    alice_pass = a_pass(alice, network, mutualab)
    bob_pass = a_pass(bob, network, mutualab)
    charlie_pass = a_pass(charlie, network, filature)
    quentin_pass = a_pass(quentin, network, quai)

    # Filature hosted Mutualab 5 times: Alice 3 days (Mon 2, Tue 3, Wed 4), Bob 2 (Mon 2, Thu 5).
    for day in (2, 3, 4):
        visit(alice_pass, filature, day)
    for day in (2, 5):
        visit(bob_pass, filature, day)
    # Mutualab hosted Filature 3 times (Charlie: Mon 9, Tue 10, Wed 11 flagged) and Quai once
    # (Quentin, Mon 9).
    visit(charlie_pass, mutualab, 9)
    visit(charlie_pass, mutualab, 10)
    visit(charlie_pass, mutualab, 11, flagged=True)
    visit(quentin_pass, mutualab, 9)
    # Quai hosted Mutualab twice (Alice Thu 12, Bob Fri 13), Filature 4 times (Charlie: Mon 16,
    # Tue 17, Wed 18, Thu 19 flagged).
    visit(alice_pass, quai, 12)
    visit(bob_pass, quai, 13)
    for day in (16, 17, 18):
        visit(charlie_pass, quai, day)
    visit(charlie_pass, quai, 19, flagged=True)

    # Nothing to settle: check-ins at home, other months, another network.
    visit(alice_pass, mutualab, 20)
    visit(alice_pass, mutualab, 23)
    visit(charlie_pass, filature, 20)
    visit(alice_pass, filature, 30, month=10)
    visit(alice_pass, filature, 1, month=12)
    other = Network.objects.create(slug="autre-reseau", name="Autre réseau")
    for space in (mutualab, verriere):
        NetworkSpace.objects.create(network=other, space=space)
    visit(a_pass(alice, other, mutualab), verriere, 24)
    return network


def cell(count: int, value: str, flagged: int = 0) -> dict:
    return {"count": count, "value": Decimal(value), "flagged": flagged}


def test_the_matrix_counts_visits_hosted_by_host_and_home(november):
    settlement = network_settlement(november, NOVEMBER)

    assert settlement["network"] == "chtipass"
    assert settlement["month"] == "2026-11"
    assert settlement["day_rate"] == Decimal("15.00")
    assert settlement["spaces"] == [FILATURE, MUTUALAB, QUAI]
    # Each cell is count × 15.00; the flagged visits are counted and reported.
    assert settlement["matrix"] == {
        FILATURE: {MUTUALAB: cell(5, "75.00"), QUAI: cell(0, "0.00")},
        MUTUALAB: {FILATURE: cell(3, "45.00", flagged=1), QUAI: cell(1, "15.00")},
        QUAI: {FILATURE: cell(4, "60.00", flagged=1), MUTUALAB: cell(2, "30.00")},
    }
    # 5 + 0 + 3 + 1 + 4 + 2 = 15 visits, 225.00.
    assert settlement["totals"] == {"count": 15, "value": Decimal("225.00"), "flagged": 2}


def test_each_pair_nets_what_its_spaces_hosted_for_each_other(november):
    settlement = network_settlement(november, NOVEMBER)

    # net = (a hosted b − b hosted a) × 15.00; positive: b owes a.
    assert settlement["pairs"] == [
        {  # (5 − 3) × 15 = 30: Mutualab owes La Filature 30.00
            "a": FILATURE,
            "b": MUTUALAB,
            "a_hosted_b": 5,
            "b_hosted_a": 3,
            "net": Decimal("30.00"),
            "creditor": FILATURE,
            "debtor": MUTUALAB,
        },
        {  # (0 − 4) × 15 = −60: La Filature owes Le Quai 60.00
            "a": FILATURE,
            "b": QUAI,
            "a_hosted_b": 0,
            "b_hosted_a": 4,
            "net": Decimal("-60.00"),
            "creditor": QUAI,
            "debtor": FILATURE,
        },
        {  # (1 − 2) × 15 = −15: Mutualab owes Le Quai 15.00
            "a": MUTUALAB,
            "b": QUAI,
            "a_hosted_b": 1,
            "b_hosted_a": 2,
            "net": Decimal("-15.00"),
            "creditor": QUAI,
            "debtor": MUTUALAB,
        },
    ]


def test_each_space_balance_is_the_sum_of_its_pair_nets(november):
    settlement = network_settlement(november, NOVEMBER)

    # La Filature: +30 − 60 = −30 (hosted 5, made 3 + 4 = 7: (5 − 7) × 15).
    # Mutualab:    −30 − 15 = −45 (hosted 3 + 1 = 4, made 5 + 2 = 7: (4 − 7) × 15).
    # Le Quai:     +60 + 15 = +75 (hosted 4 + 2 = 6, made 1 + 0 = 1: (6 − 1) × 15).
    assert settlement["balances"] == {
        FILATURE: {"hosted": 5, "made": 7, "balance": Decimal("-30.00")},
        MUTUALAB: {"hosted": 4, "made": 7, "balance": Decimal("-45.00")},
        QUAI: {"hosted": 6, "made": 1, "balance": Decimal("75.00")},
    }
    assert sum(b["balance"] for b in settlement["balances"].values()) == 0


def test_a_quiet_month_settles_to_zero(november):
    settlement = network_settlement(november, dt.date(2026, 9, 1))

    assert settlement["totals"] == {"count": 0, "value": Decimal("0.00"), "flagged": 0}
    assert {b["balance"] for b in settlement["balances"].values()} == {Decimal("0.00")}
    assert all(pair["creditor"] is None for pair in settlement["pairs"])


def test_a_space_sees_the_visits_it_hosted_and_those_its_members_made(november, mutualab):
    usage = visit_usage(mutualab, NOVEMBER)

    assert usage == {
        "visits_hosted": 4,  # Charlie 3, Quentin 1
        "visits_hosted_by_home": {FILATURE: 3, QUAI: 1},
        # Alice 3 + Bob 2 at La Filature, Alice and Bob once each at Le Quai, Alice once at
        # La Verrière (the other network).
        "visits_made": 8,
        "visits_made_by_host": {FILATURE: 5, QUAI: 2, "verriere-villeneuve": 1},
        "home_check_ins": 2,  # Alice, Fri 20 and Mon 23
        "flagged_visits": 1,  # Charlie, Wed 11
        # Mon 9: Charlie and Quentin; Tue 10; Wed 11.
        "visits_by_weekday": [
            {"weekday": 1, "visits": 2},
            {"weekday": 2, "visits": 1},
            {"weekday": 3, "visits": 1},
            {"weekday": 4, "visits": 0},
            {"weekday": 5, "visits": 0},
            {"weekday": 6, "visits": 0},
            {"weekday": 7, "visits": 0},
        ],
        "distinct_visitors": 2,  # Charlie, Quentin
    }


def test_the_space_review_gathers_bookings_visits_and_balances(
    november, mutualab, room, alice, bob
):
    Booking.objects.create(
        resource=room, member=bob, start=paris(2026, 11, 3, 9), end=paris(2026, 11, 3, 10)
    )

    usage = space_usage(mutualab, NOVEMBER)

    assert usage["space"] == MUTUALAB and usage["month"] == "2026-11"
    assert usage["bookings"]["totals"]["bookings"] == 1
    assert usage["visits"]["visits_hosted"] == 4
    # Balances with the other spaces of each network, positive when they owe Mutualab.
    assert usage["settlement"] == [
        {
            "network": "chtipass",
            "space": FILATURE,
            "hosted": 3,
            "made": 5,
            "balance": Decimal("-30.00"),
        },
        {
            "network": "chtipass",
            "space": QUAI,
            "hosted": 1,
            "made": 2,
            "balance": Decimal("-15.00"),
        },
        {
            "network": "autre-reseau",
            "space": "verriere-villeneuve",
            "hosted": 0,
            "made": 1,
            "balance": Decimal("-15.00"),
        },
    ]
    # Bob booked, Alice checked in at home: 2 (Charlie and Quentin are visitors, not members).
    assert usage["distinct_active_members"] == 2


def test_a_member_who_booked_and_checked_in_is_one_active_member(november, mutualab, room, alice):
    Booking.objects.create(
        resource=room, member=alice, start=paris(2026, 11, 3, 9), end=paris(2026, 11, 3, 10)
    )

    assert space_usage(mutualab, NOVEMBER)["distinct_active_members"] == 1


def test_the_number_of_queries_does_not_grow_with_spaces_or_visits(
    november, mutualab, filature, alice
):
    with CaptureQueriesContext(connection) as few:
        network_settlement(november, NOVEMBER)
    with CaptureQueriesContext(connection) as few_visits:
        visit_usage(mutualab, NOVEMBER)
    with CaptureQueriesContext(connection) as few_review:
        space_usage(mutualab, NOVEMBER)

    # Ten more spaces, each with a member visiting Mutualab and La Filature, hosting Alice.
    alice_pass = Pass.objects.get(member=alice, network=november)
    for n in range(10):
        space = MembershipFactory(member=MemberFactory()).space
        NetworkSpace.objects.create(network=november, space=space)
        member = space.memberships.get().member
        member_pass = a_pass(member, november, space)
        for day in (2, 3):
            visit(member_pass, mutualab, day)
            visit(member_pass, filature, day, flagged=True)
        visit(alice_pass, space, 26)
    with CaptureQueriesContext(connection) as many:
        settlement = network_settlement(november, NOVEMBER)
    with CaptureQueriesContext(connection) as many_visits:
        visits = visit_usage(mutualab, NOVEMBER)
    with CaptureQueriesContext(connection) as many_review:
        space_usage(mutualab, NOVEMBER)

    assert len(settlement["spaces"]) == 13
    assert settlement["totals"]["count"] == 15 + 40 + 10
    assert visits["visits_hosted"] == 4 + 20
    assert len(many) == len(few) == 2
    assert len(many_visits) == len(few_visits) == 4
    assert len(many_review) == len(few_review)


def test_every_spaces_review_agrees_with_the_network_settlement(november, mutualab, filature, quai):
    """The review of one space (the dashboard, the summary email) and the network's matrix are
    the same rule read two ways: every balance line is the pair's net, seen from that space."""
    settled = network_settlement(november, NOVEMBER)
    nets = {}
    for pair in settled["pairs"]:
        nets[(pair["a"], pair["b"])] = pair["net"]
        nets[(pair["b"], pair["a"])] = -pair["net"]
    for space in (mutualab, filature, quai):
        lines = [
            line
            for line in space_usage(space, NOVEMBER)["settlement"]
            if line["network"] == "chtipass"
        ]
        assert {line["space"]: line["balance"] for line in lines} == {
            other: nets[(space.slug, other)] for other in settled["spaces"] if other != space.slug
        }
        assert sum(line["balance"] for line in lines) == settled["balances"][space.slug]["balance"]
