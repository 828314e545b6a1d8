"""Booking for somebody else does not tell which member ids exist."""

import pytest

from spaces.models import Booking, BookingSeries

pytestmark = pytest.mark.django_db

SLOT = {"start": "2026-12-02T10:00:00+01:00", "end": "2026-12-02T11:00:00+01:00"}


@pytest.mark.parametrize("url", ["/api/v1/bookings/", "/api/v1/bookings/recurring/"])
def test_an_unknown_member_id_gets_the_answer_of_somebody_elses(api, alice, bob, room, url):
    extra = {"until": "2026-12-23"} if "recurring" in url else {}
    answers = [
        api.as_(bob).post(url, {"resource": room.pk, "member": member, **SLOT, **extra})
        for member in (alice.pk, 999999)
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "forbidden")] * 2
    assert answers[0].json() == answers[1].json()
    assert not Booking.objects.exists() and not BookingSeries.objects.exists()


def test_a_member_id_that_is_not_a_number_is_still_a_400(api, bob, room):
    answer = api.as_(bob).post(
        "/api/v1/bookings/", {"resource": room.pk, "member": "alice", **SLOT}
    )
    assert answer.status_code == 400
    assert "member" in answer.json()["fields"]
