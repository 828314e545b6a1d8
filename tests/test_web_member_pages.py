"""The member's web pages: log in, book by day, my bookings and calendar link, my ch'tipass."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.utils import translation

from passes import codec
from passes.services import pass_revoke, pass_suspend
from spaces.models import Booking
from spaces.services import booking_create

from .conftest import paris
from .factories import PASSWORD

pytestmark = pytest.mark.django_db

TOMORROW = "2026-12-02"  # a Wednesday; the clock is frozen on Tuesday 1 December 2026, 09:00
SATURDAY = "2026-12-05"


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware leaves the request's language active: keep it from leaking."""
    with translation.override(translation.get_language()):
        yield


def text(response) -> str:
    return html.unescape(response.content.decode())


def book(client, **data):
    return client.post("/reserver/nouvelle/", {"space": "mutualab", **data}, follow=True)


def pass_config(response) -> dict:
    found = re.search(
        r'<script id="pass-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, "the pass page carries its configuration for pass.js"
    return json.loads(found.group(1))


# --- Logging in ------------------------------------------------------------------------------


def test_the_login_page_is_in_french(client):
    response = client.get("/connexion/")

    assert response.status_code == 200
    assert '<html lang="fr"' in text(response)
    assert "Adresse e-mail" in text(response)


def test_a_member_logs_in_lands_on_the_booking_page_and_logs_out(client, clock, alice):
    response = client.post(
        "/connexion/", {"username": "alice@mutualab.example", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0].startswith("/reserver/")
    assert response.context["user"] == alice
    assert "Se déconnecter" in text(response)

    response = client.post("/deconnexion/", follow=True)

    assert response.redirect_chain[-1][0] == "/connexion/"
    assert not response.context["user"].is_authenticated


def test_a_wrong_password_is_refused(client, alice):
    response = client.post("/connexion/", {"username": alice.email, "password": "nope"})

    assert response.status_code == 200
    assert not response.context["user"].is_authenticated


@pytest.mark.parametrize("path", ["/reserver/", "/reservations/", "/pass/"])
def test_each_member_page_requires_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/connexion/?next={path}"


def test_the_home_page_sends_a_member_to_the_booking_page(client, alice):
    client.force_login(alice)

    assert client.get("/")["Location"] == "/reserver/"


# --- The day view ----------------------------------------------------------------------------


def test_the_day_view_lists_free_desks_and_rooms(client, clock, alice, desk, room):
    client.force_login(alice)

    response = client.get(f"/reserver/?date={TOMORROW}")

    assert response.status_code == 200
    page = text(response)
    assert "Mutualab" in page
    assert "Poste 01" in page and "Salle Jean Bart" in page
    for period in ("morning", "afternoon", "day"):
        assert f'name="period" value="{period}"' in page
    view = response.context["view"]
    assert [d.name for d in view.desks] == ["Poste 01"]
    assert view.rooms[0].starts[0] == "08:30" and view.rooms[0].ends[-1] == "19:00"


def test_the_day_view_makes_as_many_queries_for_many_resources_as_for_one(
    client, clock, alice, bob, mutualab, desk, room, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .factories import ResourceFactory

    client.force_login(alice)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/reserver/?date={TOMORROW}")
    for number in range(2, 12):
        extra = ResourceFactory(
            space=mutualab, name=f"Poste {number:02}", kind="desk", desk_type="hot"
        )
        booking_create(
            member=bob if number % 2 else alice,
            resource=extra,
            start=paris(2026, 12, 2, 8, 30),
            end=paris(2026, 12, 2, 13),
        )

    with django_assert_max_num_queries(len(one)):
        response = client.get(f"/reserver/?date={TOMORROW}")

    assert len(response.context["view"].desks) == 11


def test_the_day_view_defaults_to_today_at_the_home_space(client, clock, alice, desk):
    client.force_login(alice)

    response = client.get("/reserver/?date=not-a-date")

    assert response.context["day"].isoformat() == "2026-12-01"
    assert response.context["space"].slug == "mutualab"


def test_the_day_view_says_when_the_space_is_closed(client, clock, alice, desk):
    client.force_login(alice)

    response = client.get(f"/reserver/?date={SATURDAY}")

    assert "Le lieu est fermé ce jour-là." in text(response)
    assert 'name="period"' not in text(response)


def test_the_day_view_offers_no_room_slot_already_past(client, clock, alice, room):
    client.force_login(alice)

    response = client.get("/reserver/?date=2026-12-01")

    assert response.context["view"].rooms[0].starts[0] == "09:00"  # it is 09:00


def test_the_day_view_marks_my_booking(client, clock, alice, desk):
    booking_create(
        member=alice, resource=desk, start=paris(2026, 12, 2, 8, 30), end=paris(2026, 12, 2, 13)
    )
    client.force_login(alice)

    response = client.get(f"/reserver/?date={TOMORROW}")

    periods = {p.name: p for p in response.context["view"].desks[0].periods}
    assert periods["morning"].mine and not periods["morning"].free
    assert periods["afternoon"].free
    assert "À vous" in text(response)


# --- Booking ---------------------------------------------------------------------------------


def test_booking_a_desk_for_the_morning_creates_it_and_says_so(client, clock, alice, desk):
    client.force_login(alice)

    response = book(client, resource=desk.pk, date=TOMORROW, period="morning")

    booking = Booking.objects.get()
    assert (booking.member, booking.resource) == (alice, desk)
    assert (booking.start, booking.end) == (paris(2026, 12, 2, 8, 30), paris(2026, 12, 2, 13))
    assert response.redirect_chain[-1][0] == f"/reserver/?date={TOMORROW}&space=mutualab"
    assert "Réservé : Poste 01, mercredi 2 décembre 2026, 08:30–13:00." in text(response)
    assert response.context["view"].desks[0].mine


def test_booking_a_room_with_a_start_and_an_end(client, clock, alice, room):
    client.force_login(alice)

    book(client, resource=room.pk, date=TOMORROW, start="10:00", end="11:30")

    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (paris(2026, 12, 2, 10), paris(2026, 12, 2, 11, 30))


def test_a_booking_on_a_saturday_shows_the_service_message_and_creates_nothing(
    client, clock, alice, room
):
    client.force_login(alice)

    response = book(client, resource=room.pk, date=SATURDAY, start="10:00", end="11:00")

    assert not Booking.objects.exists()
    assert "Le lieu ou la ressource est fermé ce jour-là." in text(response)
    assert response.redirect_chain[-1][0] == f"/reserver/?date={SATURDAY}&space=mutualab"
    assert response.context["day"].isoformat() == SATURDAY  # the page keeps the chosen date


def test_a_desk_on_a_saturday_is_refused_as_closed(client, clock, alice, desk):
    client.force_login(alice)

    response = book(client, resource=desk.pk, date=SATURDAY, period="day")

    assert not Booking.objects.exists()
    assert "Le lieu ou la ressource est fermé ce jour-là." in text(response)


def test_an_overlapping_booking_shows_the_conflict_message(client, clock, alice, bob, room):
    booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    client.force_login(alice)

    response = book(client, resource=room.pk, date=TOMORROW, start="10:30", end="11:30")

    assert Booking.objects.filter(member=alice).count() == 0
    assert "Ce créneau est déjà réservé." in text(response)


def test_a_booking_off_the_slot_grid_shows_the_rule(client, clock, alice, room):
    client.force_login(alice)

    response = book(client, resource=room.pk, date=TOMORROW, start="10:10", end="11:00")

    assert not Booking.objects.exists()
    assert "Les salles et machines se réservent par créneaux de 15 minutes." in text(response)


def test_an_unknown_resource_is_refused_without_an_error_page(client, clock, alice):
    client.force_login(alice)

    response = book(client, resource=999999, date=TOMORROW, period="day")

    assert response.status_code == 200
    assert "Cette ressource n'est pas réservable." in text(response)


def test_booking_needs_a_post(client, clock, alice, desk):
    client.force_login(alice)

    assert client.get("/reserver/nouvelle/").status_code == 405


def test_a_refusal_is_in_english_for_an_english_reader(client, clock, alice, room):
    client.force_login(alice)

    response = client.post(
        "/reserver/nouvelle/",
        {"resource": room.pk, "date": SATURDAY, "start": "10:00", "end": "11:00"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "The space or the resource is closed on that day." in text(response)


# --- My bookings -----------------------------------------------------------------------------


def test_my_bookings_lists_upcoming_and_past_ones(client, clock, alice, bob, desk, room):
    mine = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    booking_create(
        member=bob, resource=desk, start=paris(2026, 12, 2, 8, 30), end=paris(2026, 12, 2, 13)
    )
    client.force_login(alice)

    response = client.get("/reservations/")

    assert [b.pk for b in response.context["upcoming"]] == [mine.pk]
    assert "Salle Jean Bart" in text(response)
    assert f'action="/reservations/{mine.pk}/annuler/"' in text(response)


def test_cancelling_a_booking_works(client, clock, alice, room):
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    client.force_login(alice)

    response = client.post(f"/reservations/{booking.pk}/annuler/", follow=True)

    booking.refresh_from_db()
    assert booking.is_cancelled
    assert "Réservation annulée : Salle Jean Bart" in text(response)
    assert response.context["upcoming"] == []
    assert [b.pk for b in response.context["past_page"]] == [booking.pk]


def test_a_late_cancel_shows_the_cutoff_message(client, clock, alice, room):
    booking = booking_create(
        member=alice, resource=room, start=paris(2026, 12, 1, 9, 30), end=paris(2026, 12, 1, 10, 30)
    )
    client.force_login(alice)

    response = client.post(f"/reservations/{booking.pk}/annuler/", follow=True)

    booking.refresh_from_db()
    assert not booking.is_cancelled
    assert "Il est trop tard pour annuler cette réservation." in text(response)


def test_another_members_booking_cannot_be_cancelled_through_the_web(
    client, clock, alice, bob, room
):
    bobs = booking_create(
        member=bob, resource=room, start=paris(2026, 12, 2, 10), end=paris(2026, 12, 2, 11)
    )
    client.force_login(alice)

    response = client.post(f"/reservations/{bobs.pk}/annuler/")

    assert response.status_code == 404
    bobs.refresh_from_db()
    assert not bobs.is_cancelled


def test_past_bookings_are_paginated(client, clock, alice, room, monkeypatch):
    monkeypatch.setattr("web.member_views.PAST_BOOKINGS_PER_PAGE", 10)
    room.max_active_bookings = 30
    room.save()
    for day in range(2, 25):
        if paris(2026, 12, day).weekday() < 5:
            booking_create(
                member=alice,
                resource=room,
                start=paris(2026, 12, day, 10),
                end=paris(2026, 12, day, 11),
            )
    clock.move_to(paris(2027, 1, 5, 9))
    client.force_login(alice)

    first = client.get("/reservations/")
    second = client.get("/reservations/?page=2")

    assert len(first.context["past_page"]) == 10
    assert first.context["past_page"].paginator.count == 17
    assert len(second.context["past_page"]) == 7
    assert 'href="?page=2#past-title"' in text(first)


def test_the_bookings_page_shows_the_ical_url_and_rotating_changes_it(client, clock, alice):
    client.force_login(alice)
    old = alice.calendar_token

    page = text(client.get("/reservations/"))
    assert f"http://testserver/calendar/{old}.ics" in page
    assert f"webcal://testserver/calendar/{old}.ics" in page

    response = client.post("/reservations/agenda/nouveau-lien/", follow=True)

    alice.refresh_from_db()
    assert alice.calendar_token != old
    assert f"/calendar/{alice.calendar_token}.ics" in text(response)
    assert old not in text(response)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{alice.calendar_token}.ics").status_code == 200


# --- My ch'tipass ----------------------------------------------------------------------------


def test_the_pass_page_carries_the_credential_and_the_allowance(client, clock, alice, alice_pass):
    client.force_login(alice)

    response = client.get("/pass/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    config = pass_config(response)
    assert config["active"] is True
    assert config["passId"] == alice_pass.pk
    assert config["apiUrl"] == "/api/v1/me/pass/"
    assert config["windowSeconds"] == 30
    assert (config["swUrl"], config["swScope"]) == ("/pass/sw.js", "/pass/")
    claims = codec.decode(config["credential"])[0]
    assert (claims.pass_id, claims.counter) == (alice_pass.pk, config["counter"])
    assert claims.counter == int(paris(2026, 12, 1, 9).timestamp()) // 30
    page = text(response)
    assert config["credential"] in page  # also as selectable text for manual entry
    assert 'id="pass-qr"' in page
    assert "Alice" in page and "Membre de Mutualab" in page
    assert "Visites restantes ce mois-ci" in page
    assert response.context["network_left"] == 8
    assert response.context["per_host"] == [("La Filature", 4), ("Le Quai", 4)]
    assert "/static/web/pass.js" in page
    assert "/static/web/vendor/qrcode-generator/qrcode.js" in page


def test_the_pass_page_lists_my_recent_visits(client, clock, alice, alice_pass, filature):
    from passes.models import Visit

    Visit.objects.create(
        member=alice,
        pass_obj=alice_pass,
        network=alice_pass.network,
        host=filature,
        home=alice_pass.membership.space,
        date=paris(2026, 12, 1).date(),
    )
    client.force_login(alice)

    response = client.get("/pass/")

    assert [v.host.name for v in response.context["visits"]] == ["La Filature"]
    assert "1 visite ce mois-ci." in text(response)


def test_a_member_without_a_pass_sees_an_explanation_and_no_qr(client, clock, alice):
    client.force_login(alice)

    response = client.get("/pass/")

    page = text(response)
    assert "Vous n'avez pas de ch'tipass" in page
    assert 'id="pass-qr"' not in page and "CP1:" not in page
    assert pass_config(response)["active"] is False


def test_a_suspended_pass_shows_suspendu_and_no_qr(client, clock, alice, alice_pass, camille):
    pass_suspend(pass_obj=alice_pass, actor=camille, reason="Cotisation en retard")
    client.force_login(alice)

    response = client.get("/pass/")

    page = text(response)
    assert "suspendu" in page
    assert "Cotisation en retard" in page
    assert 'id="pass-qr"' not in page and "CP1:" not in page
    assert pass_config(response)["active"] is False


def test_a_revoked_pass_says_so_and_why(client, clock, alice, alice_pass, camille):
    pass_revoke(pass_obj=alice_pass, actor=camille, reason="Départ du lieu")
    client.force_login(alice)

    page = text(client.get("/pass/"))

    assert "Votre ch'tipass a été révoqué" in page
    assert "Départ du lieu" in page
    assert "CP1:" not in page


def test_the_service_worker_is_served_under_the_pass_page(client):
    response = client.get("/pass/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/pass/"
    assert response["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in response.content


# --- English ---------------------------------------------------------------------------------


def test_the_pages_are_in_english_with_accept_language_en(client, clock, alice, alice_pass, desk):
    client.force_login(alice)

    book_page = text(client.get(f"/reserver/?date={TOMORROW}", HTTP_ACCEPT_LANGUAGE="en"))
    bookings_page = text(client.get("/reservations/", HTTP_ACCEPT_LANGUAGE="en"))
    pass_response = client.get("/pass/", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="en"' in book_page
    assert "Desks" in book_page and "Morning" in book_page
    assert "My bookings" in bookings_page and "iCal link" in bookings_page
    assert "Visits left this month" in text(pass_response)
    assert pass_config(pass_response)["strings"]["countdown"] == "New code in {seconds} s"


def test_the_language_switch_turns_the_pages_english(client, clock, alice, alice_pass):
    client.force_login(alice)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/pass/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/pass/"
    assert '<html lang="en"' in text(response)
    assert "My ch'tipass" in text(response)
    assert "Mon ch'tipass" not in text(response)
