"""Who co-manages a space is one rule (spaces/selectors.py::co_manager_memberships): the admin,
the API's permissions, the pages and the monthly summaries all agree on its edges."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.summaries import summary_recipients
from reports.summary_email import _co_managed_spaces
from spaces.models import Membership
from spaces.selectors import co_managed_space_ids

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)


def camilles_membership(camille) -> Membership:
    return Membership.objects.get(member=camille, role=Membership.Role.CO_MANAGER)


def co_manages_in_november(camille) -> tuple[bool, bool]:
    """(a summary recipient for November, November's summary has a section for her space)."""
    return camille.pk in summary_recipients(NOVEMBER), bool(_co_managed_spaces(camille, NOVEMBER))


def test_an_active_co_manager_co_manages_everywhere(camille, mutualab):
    assert co_managed_space_ids(camille, today=dt.date(2026, 11, 15)) == {mutualab.pk}
    assert co_manages_in_november(camille) == (True, True)


def test_a_suspended_co_manager_co_manages_nothing(camille):
    Membership.objects.filter(pk=camilles_membership(camille).pk).update(
        status=Membership.Status.SUSPENDED
    )

    assert co_managed_space_ids(camille, today=dt.date(2026, 11, 15)) == set()
    assert co_manages_in_november(camille) == (False, False)


def test_a_co_manager_whose_membership_ended_before_the_month_gets_no_summary(camille, mutualab):
    Membership.objects.filter(pk=camilles_membership(camille).pk).update(
        ends_on=dt.date(2026, 10, 31)
    )

    assert co_managed_space_ids(camille, today=dt.date(2026, 10, 31)) == {mutualab.pk}
    assert co_managed_space_ids(camille, today=dt.date(2026, 11, 1)) == set()
    assert co_manages_in_november(camille) == (False, False)


def test_a_co_manager_from_the_last_day_of_the_month_gets_its_summary(camille, mutualab):
    Membership.objects.filter(pk=camilles_membership(camille).pk).update(
        starts_on=dt.date(2026, 11, 30)
    )

    assert co_managed_space_ids(camille, today=dt.date(2026, 11, 29)) == set()
    assert co_managed_space_ids(camille, today=dt.date(2026, 11, 30)) == {mutualab.pk}
    assert co_manages_in_november(camille) == (True, True)


def test_a_member_co_manages_nothing(alice):
    assert co_managed_space_ids(alice, today=dt.date(2026, 11, 15)) == set()
    assert _co_managed_spaces(alice, NOVEMBER) == []
