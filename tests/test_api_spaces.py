"""Spaces, their resources and a day's availability through the API (SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from spaces.models import Booking, Closure, Resource
from spaces.services import booking_create

from .conftest import paris
from .factories import ResourceFactory

SPACES_URL = "/api/v1/spaces/"
MUTUALAB_URL = "/api/v1/spaces/mutualab/"
RESOURCES_URL = "/api/v1/spaces/mutualab/resources/"
AVAILABILITY_URL = "/api/v1/spaces/mutualab/availability/"

pytestmark = pytest.mark.usefixtures("clock")


def span(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def by_name(resources: list[dict]) -> dict[str, dict]:
    return {resource["name"]: resource for resource in resources}


# --- Public information ----------------------------------------------------------------------


@pytest.mark.django_db
def test_anyone_lists_the_spaces(api, mutualab, filature):
    response = api.get(SPACES_URL)

    assert response.status_code == 200
    spaces = {space["slug"]: space for space in response.json()}
    assert set(spaces) == {"mutualab", "filature-roubaix"}
    assert spaces["mutualab"]["name"] == "Mutualab"
    assert spaces["mutualab"]["timezone"] == "Europe/Paris"
    assert spaces["mutualab"]["opening_hours"]["tue"] == [["08:30", "19:00"]]
    assert spaces["mutualab"]["booking_rules"]["cancellation_cutoff_minutes"] == 60


@pytest.mark.django_db
def test_anyone_reads_a_space_with_its_upcoming_closures(api, mutualab):
    Closure.objects.create(
        space=mutualab, starts_on=dt.date(2026, 12, 24), ends_on=dt.date(2027, 1, 1), reason="Noël"
    )
    Closure.objects.create(
        space=mutualab, starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8, 15), reason="Été"
    )

    response = api.get(MUTUALAB_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "mutualab"
    assert body["upcoming_closures"] == [
        {"starts_on": "2026-12-24", "ends_on": "2027-01-01", "reason": "Noël", "resource": None}
    ]


@pytest.mark.django_db
def test_an_unknown_space_is_not_found(api, alice, mutualab):
    assert api.get("/api/v1/spaces/nowhere/").status_code == 404
    api.as_(alice)
    assert api.get("/api/v1/spaces/nowhere/resources/").status_code == 404
    response = api.get("/api/v1/spaces/nowhere/availability/", {"date": "2026-12-02"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_an_unknown_space_is_not_found_even_with_a_bad_date(api, alice, mutualab):
    response = api.as_(alice).get("/api/v1/spaces/nowhere/availability/", {"date": "soon"})

    assert response.status_code == 404


# --- Resources -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_list_resources(api, desk):
    response = api.get(RESOURCES_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_member_lists_the_active_resources_and_their_rules(api, alice, desk, room, laser):
    ResourceFactory(space=desk.space, name="Vieille imprimante", is_active=False)

    response = api.as_(alice).get(RESOURCES_URL)

    assert response.status_code == 200
    resources = by_name(response.json())
    assert set(resources) == {"Poste 01", "Salle Jean Bart", "Découpeuse laser"}
    assert resources["Poste 01"]["rules"]["booking_unit"] == "half_day"
    assert resources["Salle Jean Bart"]["rules"]["booking_unit"] == "15_minutes"
    assert resources["Salle Jean Bart"]["capacity"] == 8
    assert resources["Découpeuse laser"]["training"] == "Laser safety"


@pytest.mark.django_db
def test_a_resource_rule_overrides_the_space_default(api, alice, room):
    room.cancellation_cutoff_minutes = 1440
    room.save(update_fields=["cancellation_cutoff_minutes"])

    resources = by_name(api.as_(alice).get(RESOURCES_URL).json())

    assert resources["Salle Jean Bart"]["rules"]["cancellation_cutoff_minutes"] == 1440
    assert resources["Salle Jean Bart"]["rules"]["min_minutes"] == 30


# --- Availability ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_visitor_cannot_see_availability(api, desk):
    response = api.get(AVAILABILITY_URL, {"date": "2026-12-02"})

    assert response.status_code == 401


@pytest.mark.django_db
def test_availability_shows_booked_and_free_intervals(api, alice, bob, room):
    booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 14), end=paris(2026, 12, 2, 15)
    )

    response = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"})

    assert response.status_code == 200
    body = response.json()
    assert body["space"] == "mutualab"
    assert body["date"] == "2026-12-02"
    assert body["timezone"] == "Europe/Paris"
    salle = by_name(body["resources"])["Salle Jean Bart"]
    assert salle["closed"] is False
    assert salle["slot_minutes"] == 15
    assert salle["open"] == [span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 19))]
    # Only "mine" tells who booked: other members' names stay private.
    assert salle["booked"] == [
        {**span(paris(2026, 12, 2, 10), paris(2026, 12, 2, 11)), "mine": False},
        {**span(paris(2026, 12, 2, 14), paris(2026, 12, 2, 15)), "mine": True},
    ]
    assert salle["free"] == [
        span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 10)),
        span(paris(2026, 12, 2, 11), paris(2026, 12, 2, 14)),
        span(paris(2026, 12, 2, 15), paris(2026, 12, 2, 19)),
    ]


@pytest.mark.django_db
def test_availability_ignores_cancelled_bookings(api, alice, room):
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking.status = Booking.Status.CANCELLED
    booking.save(update_fields=["status"])

    salle = by_name(
        api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}).json()["resources"]
    )["Salle Jean Bart"]

    assert salle["booked"] == []
    assert salle["free"] == [span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 19))]


@pytest.mark.django_db
def test_availability_shows_which_desk_periods_are_free(api, alice, bob, desk):
    booking_create(
        member=bob, resource=desk, start=paris(2026, 12, 2, 8, 30), end=paris(2026, 12, 2, 13)
    )

    response = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"})

    poste = by_name(response.json()["resources"])["Poste 01"]
    assert poste["slot_minutes"] is None
    assert poste["periods"] == {
        "day": {**span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 19)), "free": False},
        "morning": {**span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 13)), "free": False},
        "afternoon": {**span(paris(2026, 12, 2, 13), paris(2026, 12, 2, 19)), "free": True},
    }
    assert poste["free"] == [span(paris(2026, 12, 2, 13), paris(2026, 12, 2, 19))]


@pytest.mark.django_db
def test_availability_on_a_weekend_shows_everything_closed(api, alice, desk, room):
    response = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-05"})

    assert response.status_code == 200
    for resource in response.json()["resources"]:
        assert resource["closed"] is True
        assert resource["free"] == []
    assert by_name(response.json()["resources"])["Poste 01"]["periods"] == {}


@pytest.mark.django_db
def test_availability_shows_a_closure_of_one_resource(api, alice, mutualab, desk, room):
    Closure.objects.create(
        space=mutualab, resource=room, starts_on=dt.date(2026, 12, 2), ends_on=dt.date(2026, 12, 2)
    )

    resources = by_name(
        api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}).json()["resources"]
    )

    assert resources["Salle Jean Bart"]["closed"] is True
    assert resources["Poste 01"]["closed"] is False


@pytest.mark.django_db
def test_availability_describes_every_resource_in_full(api, alice, bob, desk, laser):
    Booking.objects.create(
        resource=laser, member=bob, start=paris(2026, 12, 2, 9), end=paris(2026, 12, 2, 10)
    )
    ResourceFactory(space=desk.space, name="Vieille imprimante", is_active=False)

    resources = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}).json()["resources"]

    # Ordered by kind, then name; inactive resources are left out.
    assert [r["name"] for r in resources] == ["Poste 01", "Découpeuse laser"]
    opened = span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 19))
    assert resources == [
        {
            "id": desk.pk,
            "name": "Poste 01",
            "kind": "desk",
            "desk_type": "hot",
            "capacity": 1,
            "members_only": True,
            "training": None,
            "slot_minutes": None,
            "closed": False,
            "open": [opened],
            "booked": [],
            "free": [opened],
            "periods": {
                "day": {**opened, "free": True},
                "morning": {
                    **span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 13)),
                    "free": True,
                },
                "afternoon": {**span(paris(2026, 12, 2, 13), paris(2026, 12, 2, 19)), "free": True},
            },
        },
        {
            "id": laser.pk,
            "name": "Découpeuse laser",
            "kind": "machine",
            "desk_type": "",
            "capacity": 1,
            "members_only": True,
            "training": "Laser safety",
            "slot_minutes": 15,
            "closed": False,
            "open": [opened],
            "booked": [{**span(paris(2026, 12, 2, 9), paris(2026, 12, 2, 10)), "mine": False}],
            "free": [
                span(paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 9)),
                span(paris(2026, 12, 2, 10), paris(2026, 12, 2, 19)),
            ],
        },
    ]


@pytest.mark.django_db
def test_a_resource_with_its_own_opening_hours_shows_them(api, alice, desk, room):
    evenings = {day: [["09:00", "12:00"], ["14:00", "22:00"]] for day in ("wed", "thu")}
    for resource in (desk, room):
        resource.opening_hours = evenings
        resource.save(update_fields=["opening_hours"])
    Booking.objects.create(
        resource=room, member=alice, start=paris(2026, 12, 2, 11), end=paris(2026, 12, 2, 15)
    )

    resources = by_name(
        api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}).json()["resources"]
    )

    salle = resources["Salle Jean Bart"]
    assert salle["open"] == [
        span(paris(2026, 12, 2, 9), paris(2026, 12, 2, 12)),
        span(paris(2026, 12, 2, 14), paris(2026, 12, 2, 22)),
    ]
    assert salle["booked"] == [
        {**span(paris(2026, 12, 2, 11), paris(2026, 12, 2, 15)), "mine": True}
    ]
    assert salle["free"] == [
        span(paris(2026, 12, 2, 9), paris(2026, 12, 2, 11)),
        span(paris(2026, 12, 2, 15), paris(2026, 12, 2, 22)),
    ]
    # A desk's day runs from its own opening to its own closing.
    assert resources["Poste 01"]["periods"]["day"] == {
        **span(paris(2026, 12, 2, 9), paris(2026, 12, 2, 22)),
        "free": True,
    }


@pytest.mark.django_db
def test_a_booking_from_the_evening_before_shows_with_its_real_start(api, alice, mutualab, room):
    mutualab.opening_hours = {day: [["00:00", "24:00"]] for day in ("tue", "wed")}
    mutualab.save(update_fields=["opening_hours"])
    Booking.objects.create(
        resource=room, member=alice, start=paris(2026, 12, 1, 22), end=paris(2026, 12, 2, 2)
    )
    Booking.objects.create(
        resource=room, member=alice, start=paris(2026, 12, 2, 23), end=paris(2026, 12, 3, 1)
    )

    salle = by_name(
        api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}).json()["resources"]
    )["Salle Jean Bart"]

    assert salle["booked"] == [
        {**span(paris(2026, 12, 1, 22), paris(2026, 12, 2, 2)), "mine": True},
        {**span(paris(2026, 12, 2, 23), paris(2026, 12, 3, 1)), "mine": True},
    ]
    assert salle["free"] == [span(paris(2026, 12, 2, 2), paris(2026, 12, 2, 23))]


@pytest.mark.django_db
def test_availability_is_the_json_drf_would_write(api, alice, bob, desk, room):
    room.name = "Salle\u2028« Jean Bart »"  # a line separator must stay escaped
    room.save(update_fields=["name"])
    booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )

    response = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"})

    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(response.data)
    assert b"\\u2028" in response.content


@pytest.mark.django_db
def test_availability_can_be_browsed(api, alice, room):
    response = api.as_(alice).get(AVAILABILITY_URL, {"date": "2026-12-02"}, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Salle Jean Bart" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("date", ["2026-13-01", "tomorrow", "", "9999-12-31", "0001-01-01"])
def test_a_bad_date_is_a_400(api, alice, desk, date):
    response = api.as_(alice).get(AVAILABILITY_URL, {"date": date})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"date"}


@pytest.mark.django_db
def test_a_missing_date_is_a_400(api, alice, desk):
    response = api.as_(alice).get(AVAILABILITY_URL)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"date"}


def _count_availability_queries(api, member) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.as_(member).get(AVAILABILITY_URL, {"date": "2026-12-02"})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_availability_takes_as_many_queries_with_many_bookings_as_with_few(api, alice, mutualab):
    first = ResourceFactory(space=mutualab, name="Salle 1", kind=Resource.Kind.ROOM)
    Booking.objects.create(
        resource=first, member=alice, start=paris(2026, 12, 2, 9), end=paris(2026, 12, 2, 10)
    )
    few = _count_availability_queries(api, alice)

    for number in range(2, 12):
        resource = ResourceFactory(space=mutualab, name=f"Salle {number}", kind=Resource.Kind.ROOM)
        for hour in (9, 11, 14, 16):
            Booking.objects.create(
                resource=resource,
                member=alice,
                start=paris(2026, 12, 2, hour),
                end=paris(2026, 12, 2, hour + 1),
            )
    ResourceFactory(
        space=mutualab, name="Poste 42", kind=Resource.Kind.DESK, desk_type=Resource.DeskType.HOT
    )
    many = _count_availability_queries(api, alice)

    assert many == few
