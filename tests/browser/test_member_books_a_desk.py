"""A member books a desk for a morning on /reserver/ and finds it on /reservations/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from spaces.models import Booking

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def next_weekday(space) -> dt.date:
    day = timezone.localdate(timezone=space.tz) + dt.timedelta(days=1)
    while day.weekday() >= 5:  # the test spaces are open Monday to Friday
        day += dt.timedelta(days=1)
    return day


def test_a_member_books_a_desk_for_a_morning_and_sees_it_in_her_bookings(
    page, network_guard, screenshot, alice, desk
):
    day = next_weekday(desk.space)
    login(page, alice.email)

    page.goto(f"/reserver/?date={day.isoformat()}&space=mutualab")
    expect(page.locator(".day-title time")).to_have_attribute("datetime", day.isoformat())
    row = page.locator("table.desk-table tbody tr", has_text="Poste 01")
    morning = row.locator("button[name='period'][value='morning']")
    expect(morning).to_have_text("Libre")
    screenshot(page, "day")

    morning.click()

    success = page.locator(".messages .message.success")
    expect(success).to_contain_text("Réservé : Poste 01")
    expect(success).to_contain_text("08:30–13:00")
    expect(row.locator(".slot.mine")).to_have_count(1)
    screenshot(page, "booked")
    booking = Booking.objects.get(member=alice, resource=desk)
    assert booking.status == Booking.Status.CONFIRMED
    assert timezone.localtime(booking.start, desk.space.tz).date() == day

    page.get_by_role("link", name="Mes réservations").first.click()
    page.wait_for_url("**/reservations/")
    upcoming = page.locator(".booking-list .booking")
    expect(upcoming).to_have_count(1)
    expect(upcoming).to_contain_text("Poste 01")
    expect(upcoming).to_contain_text("08:30–13:00")
    shown = dt.datetime.fromisoformat(upcoming.locator("time").get_attribute("datetime"))
    assert shown == booking.start
    screenshot(page, "bookings")

    assert page.javascript_errors == []
    network_guard.assert_only_the_server()
