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


# Who may book for whom is the first rule: a request that also breaks another rule (a closed
# day, a past slot, a skipped hour…) gets the same 403 for an existing member as for an unknown
# id, so that no other answer tells them apart.
BROKEN_RULES = {
    "desk-on-a-closed-day": {"date": "2026-12-05", "period": "morning"},
    "room-on-a-closed-day": {
        "start": "2026-12-05T10:00:00+01:00",
        "end": "2026-12-05T11:00:00+01:00",
    },
    "slot-in-the-past": {"start": "2026-11-30T10:00:00+01:00", "end": "2026-11-30T11:00:00+01:00"},
    "hour-the-clocks-skip": {"start": "2027-03-28T02:00:00", "end": "2027-03-28T03:00:00"},
    "end-before-start": {"start": "2026-12-02T11:00:00+01:00", "end": "2026-12-02T10:00:00+01:00"},
}


@pytest.mark.parametrize("url", ["/api/v1/bookings/", "/api/v1/bookings/recurring/"])
@pytest.mark.parametrize("request_body", BROKEN_RULES.values(), ids=BROKEN_RULES.keys())
def test_a_request_that_also_breaks_a_rule_tells_nothing_about_the_member_id(
    api, clock, alice, bob, desk, room, url, request_body
):
    resource = desk if "period" in request_body else room
    extra = {"until": "2026-12-23"} if "recurring" in url else {}
    answers = [
        api.as_(bob).post(url, {"resource": resource.pk, "member": member, **request_body, **extra})
        for member in (alice.pk, 999999)
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "forbidden")] * 2
    assert answers[0].json() == answers[1].json()


@pytest.mark.parametrize("request_body", BROKEN_RULES.values(), ids=BROKEN_RULES.keys())
def test_someone_who_may_book_for_the_member_is_told_the_rule(
    api, clock, camille, alice, desk, room, request_body
):
    resource = desk if "period" in request_body else room
    answer = api.as_(camille).post(
        "/api/v1/bookings/", {"resource": resource.pk, "member": alice.pk, **request_body}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] in {
        "closed",
        "desk_period",
        "in_past",
        "nonexistent_local_time",
        "invalid_interval",
    }


@pytest.mark.parametrize(
    "request_body",
    [
        {"date": "2026-12-02", "period": "night"},
        {"start": "2026-12-02T10:00:00+01:00"},
        {"start": "tomorrow", "end": "2026-12-02T11:00:00+01:00"},
        {},
    ],
    ids=["unknown-period", "no-end", "not-a-time", "nothing"],
)
def test_invalid_input_is_answered_the_same_for_any_member_id(
    api, clock, alice, bob, room, request_body
):
    answers = [
        api.as_(bob).post(
            "/api/v1/bookings/", {"resource": room.pk, "member": member, **request_body}
        )
        for member in (alice.pk, 999999)
    ]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert "member" not in answers[0].json()["fields"]


def test_a_co_manager_books_only_for_people_of_their_space(api, clock, camille, charlie, room):
    room.members_only = False
    room.save()
    answers = [
        api.as_(camille).post("/api/v1/bookings/", {"resource": room.pk, "member": member, **SLOT})
        for member in (charlie.pk, 999999)
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "forbidden")] * 2
    assert answers[0].json() == answers[1].json()
    assert not Booking.objects.exists()


def test_an_inactive_resource_is_not_revealed_either(api, clock, alice, bob, room):
    room.is_active = False
    room.save()
    answers = [
        api.as_(bob).post("/api/v1/bookings/", {"resource": room.pk, "member": member, **SLOT})
        for member in (alice.pk, 999999)
    ]
    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
