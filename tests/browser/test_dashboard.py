"""A co-manager sees her space's month: the occupancy heatmap, visits and the settlement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from passes.models import Visit
from spaces.schedule import desk_periods
from spaces.services import booking_create

from ..conftest import issue_pass, make_partner_key, partner_client, rotating_credential
from .conftest import VIEWPORTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def first_weekday_of_this_month(space) -> dt.date:
    day = timezone.localdate(timezone=space.tz).replace(day=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def a_month_of_activity(alice, charlie, desk, network, signing, mutualab, filature):
    """A desk booked one morning this month; Alice visits La Filature, Charlie visits Mutualab."""
    start, end = desk_periods(desk, first_weekday_of_this_month(mutualab))["morning"]
    booking_create(member=alice, resource=desk, start=start, end=end, now=start - dt.timedelta(1))
    for visitor, host in ((alice, filature), (charlie, mutualab)):
        answer = partner_client(make_partner_key(host)).scan(
            rotating_credential(issue_pass(visitor, network))
        )
        assert answer.status_code == 200 and answer.json()["decision"] == "accepted", answer.json()
    assert Visit.objects.count() == 2


def test_a_co_manager_sees_the_heatmap_visits_and_settlement_of_her_space(
    page, network_guard, screenshot, camille, a_month_of_activity
):
    login(page, camille.email)
    page.get_by_role("link", name="Tableau de bord").click()
    page.wait_for_url("**/tableau-de-bord/")

    expect(page.locator("h1")).to_contain_text("Mutualab")
    expect(page.locator("#heatmap-title")).to_have_text("Occupation par jour et par heure")
    wide = page.locator("table[data-heatmap='wide']")
    expect(wide).to_be_visible()  # the desktop layout: a row per weekday
    assert wide.locator("td.heat:not(.heat-0)").count() > 0  # the booked morning shows
    expect(page.locator("#visits-title")).to_be_visible()
    settlement = page.locator("[data-settlement='chtipass']")
    expect(settlement).to_be_visible()
    expect(settlement.locator("h2")).to_have_text("Règlement du réseau ch'tipass Métropole")
    matrix = settlement.locator("table[data-table='matrix']")
    # Rows are hosts, columns home spaces: each space hosted one visit of the other.
    expect(matrix.locator("tr[data-host='mutualab'] .settlement-count").first).to_be_visible()
    hosted = matrix.locator("tr[data-host='mutualab'] td.num:not(.is-empty) .settlement-count")
    expect(hosted).to_have_text(["1"])
    made = matrix.locator("tr[data-host='filature-roubaix'] td.num:not(.is-empty)")
    expect(made.locator(".settlement-count")).to_have_text(["1"])
    screenshot(page, "dashboard")

    page.set_viewport_size(VIEWPORTS["mobile"])
    expect(page.locator("table[data-heatmap='tall']")).to_be_visible()  # turned for phones
    expect(wide).to_be_hidden()
    expect(settlement).to_be_visible()

    assert page.javascript_errors == []
    network_guard.assert_only_the_server()
