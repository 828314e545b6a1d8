"""The co-manager dashboard page (SPEC §6): a space's month, its heatmap, visits, settlement,
CSV exports and admin links, for its co-managers only, in French or English."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from passes.models import Pass, Visit
from spaces.models import Booking, Membership, Resource

from .conftest import paris
from .factories import MemberFactory, MembershipFactory, ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

DASHBOARD = "/tableau-de-bord/"
NBSP = "\xa0"  # between a value and its unit, so that they stay on one line
NOVEMBER = {"month": "2026-11"}


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware leaves the request's language active after an English request."""
    with translation.override(translation.get_language()):
        yield


# --- Reading the page ------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, whitespace (non-breaking spaces included) collapsed to one space."""
        return " ".join("".join(self.parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


def _matches(tag: str, attrs: dict[str, str], want_tag: str | None, want: dict[str, str]) -> bool:
    """`True` as a wanted value asks only for the attribute to be there."""
    return want_tag in (None, tag) and all(
        key in attrs if value is True else attrs.get(key) == value for key, value in want.items()
    )


class _Finder(HTMLParser):
    def __init__(self, tag, attrs, within):
        super().__init__(convert_charrefs=True)
        self.want = (tag, attrs)
        self.within = within
        self.found: list[Element] = []
        self.stack: list[tuple[str, dict[str, str], Element | None]] = []

    def _start(self, tag, raw_attrs) -> tuple[Element | None, dict[str, str]]:
        attrs = {name: value or "" for name, value in raw_attrs}
        inside = self.within is None or any(
            _matches(t, a, *self.within) for t, a, _element in self.stack
        )
        element = None
        if inside and _matches(tag, attrs, *self.want):
            element = Element(tag, attrs)
            self.found.append(element)
        return element, attrs

    def handle_starttag(self, tag, attrs):
        element, attrs = self._start(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, attrs, element))

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _tag, _attrs, element in self.stack:
            if element is not None:
                element.parts.append(data)


def find(html: str, tag: str | None = None, within: tuple | None = None, **attrs) -> list[Element]:
    """Elements by tag and attributes (`data_space="x"` is `data-space="x"`), optionally only
    inside an element matching `within=(tag, {attrs})`."""
    finder = _Finder(tag, {name.replace("_", "-"): value for name, value in attrs.items()}, within)
    finder.feed(html)
    return finder.found


def one(html: str, tag: str | None = None, within: tuple | None = None, **attrs) -> Element:
    found = find(html, tag, within, **attrs)
    assert len(found) == 1, f"{len(found)} × {tag} {attrs}"
    return found[0]


def figure(html: str, key: str) -> tuple[str, str]:
    """(value, hint) of a key figure."""
    within = ("div", {"data-figure": key})
    value = one(html, "dd", within, **{"class": "figure-value"}).text
    hint = one(html, "dd", within, **{"class": "figure-hint"}).text
    return value, hint


def heat_cell(html: str, weekday: int, hour: int) -> Element:
    return one(html, "td", data_weekday=str(weekday), data_hour=str(hour))


def page(client, member, **query) -> str:
    client.force_login(member)
    response = client.get(DASHBOARD, query)
    assert response.status_code == 200
    return response.content.decode()


# --- A small November at Mutualab ------------------------------------------------------------


def visit(member, network, host, day: int, *, flagged: bool = False) -> Visit:
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
        flagged=flagged,
    )


@pytest.fixture
def november(network, mutualab, filature, quai, room, desk, alice, bob, charlie, camille):
    """Three room bookings and a desk day at Mutualab; La Filature's Charlie came twice (one
    visit flagged), Alice went to La Filature once and checked in at home once."""
    Booking.objects.create(  # Tuesday 3rd, 09:00–11:00
        resource=room, member=alice, start=paris(2026, 11, 3, 9), end=paris(2026, 11, 3, 11)
    )
    Booking.objects.create(  # Tuesday 10th, 09:00–10:00: the Tuesday 9 h cell holds 2 h
        resource=room, member=alice, start=paris(2026, 11, 10, 9), end=paris(2026, 11, 10, 10)
    )
    Booking.objects.create(  # Wednesday 4th, 14:00–15:30
        resource=room, member=bob, start=paris(2026, 11, 4, 14), end=paris(2026, 11, 4, 15, 30)
    )
    Booking.objects.create(  # Thursday 5th, the whole day at a desk
        resource=desk, member=bob, start=paris(2026, 11, 5, 8, 30), end=paris(2026, 11, 5, 19)
    )
    Booking.objects.create(  # cancelled: counts for nothing
        resource=room,
        member=bob,
        start=paris(2026, 11, 6, 9),
        end=paris(2026, 11, 6, 12),
        status=Booking.Status.CANCELLED,
    )
    visit(charlie, network, mutualab, 9)
    visit(charlie, network, mutualab, 10, flagged=True)
    visit(alice, network, filature, 12)
    visit(alice, network, mutualab, 13)  # a check-in at home
    return network


# --- Who may see it --------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(DASHBOARD, NOVEMBER)

    assert response.status_code == 302
    assert response.url.startswith("/connexion/?next=/tableau-de-bord/")


def test_a_plain_member_is_refused(client, alice):
    client.force_login(alice)

    assert client.get(DASHBOARD).status_code == 403


def test_a_co_manager_cannot_open_a_space_they_do_not_co_manage(client, camille, filature):
    client.force_login(camille)

    assert client.get(DASHBOARD, {"space": "filature-roubaix"}).status_code == 404
    assert client.get(DASHBOARD, {"space": "nowhere"}).status_code == 404


def test_a_co_manager_of_two_spaces_chooses_between_them(client, camille, mutualab, filature):
    MembershipFactory(member=camille, space=filature, role=Membership.Role.CO_MANAGER)

    default = page(client, camille)
    chosen = page(client, camille, space="mutualab")

    options = find(default, "option", within=("select", {"name": "space"}))
    assert [(o.attrs["value"], o.text) for o in options] == [
        ("filature-roubaix", "La Filature"),
        ("mutualab", "Mutualab"),
    ]
    assert "La Filature" in one(default, "h1").text  # the first one, by name
    assert "Mutualab" in one(chosen, "h1").text
    assert one(chosen, "option", value="mutualab").attrs.get("selected") == ""


# --- What it shows ---------------------------------------------------------------------------


def test_camille_sees_the_key_figures_of_mutualabs_month(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    assert "Mutualab novembre 2026" in one(html, "h1").text
    assert figure(html, "bookings") == ("4", "par 2 membres")
    # 2 + 1 + 1.5 + 10.5 hours, out of 21 weekdays × 10.5 h for each of the two resources
    assert figure(html, "booked_hours") == ("15 h", "sur 441 h d'ouverture")
    assert figure(html, "occupancy")[0] == "3,4 %"
    assert figure(html, "active_members")[0] == "2"  # Alice and Bob
    assert figure(html, "visits_hosted") == ("2", "1 visiteur distinct")
    assert figure(html, "visits_made")[0] == "1"
    assert figure(html, "flagged_visits")[0] == "1"
    assert "figure--warn" in one(html, "div", data_figure="flagged_visits").classes
    assert figure(html, "balance")[0] == "+15,00 €"  # hosted 2, sent 1, at 15 € a day


def test_the_heatmap_cells_hold_the_booked_hours(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    cells = find(html, "td", within=("table", {"data-heatmap": "wide"}), data_hours=True)
    assert len(cells) == 7 * 16  # Monday to Sunday, 7 h to 22 h
    tuesday_9 = heat_cell(html, 2, 9)
    assert tuesday_9.attrs["data-hours"] == "2"
    assert tuesday_9.text == "2"
    assert tuesday_9.attrs["aria-label"] == f"mardi, 09:00–10:00 : 2{NBSP}h réservées"
    assert tuesday_9.attrs["title"] == tuesday_9.attrs["aria-label"]
    assert "heat-5" in tuesday_9.classes  # the busiest cell is the darkest
    assert heat_cell(html, 2, 10).attrs["data-hours"] == "1"
    assert "heat-3" in heat_cell(html, 2, 10).classes
    assert heat_cell(html, 3, 15).text == "0,5"  # Wednesday 15:00–15:30
    assert heat_cell(html, 4, 8).attrs["data-hours"] == "0.5"  # Thursday from 08:30
    assert heat_cell(html, 4, 18).attrs["data-hours"] == "1"
    assert heat_cell(html, 4, 19).attrs["data-hours"] == "0"
    monday_9 = heat_cell(html, 1, 9)
    assert monday_9.text == ""
    assert "heat-0" in monday_9.classes
    assert monday_9.attrs["aria-label"] == f"lundi, 09:00–10:00 : 0{NBSP}h réservées"
    # the phone layout holds the same cells, turned a quarter
    tall = [
        cell
        for cell in find(html, "td", within=("table", {"data-heatmap": "tall"}))
        if "heat" in cell.classes
    ]
    assert len(tall) == 7 * 16
    assert tall[(9 - 7) * 7 + 1].attrs["aria-label"] == tuesday_9.attrs["aria-label"]
    legend = find(html, "li", within=("div", {"class": "heat-legend"}))
    assert [item.text for item in legend] == [
        "0 h",
        "jusqu'à 0,4 h",
        "jusqu'à 0,8 h",
        "jusqu'à 1,2 h",
        "jusqu'à 1,6 h",
        "jusqu'à 2 h",
    ]
    facts = [item.text for item in find(html, "li", within=("ul", {"class": "dash-facts"}))]
    assert facts == [
        "Jour le plus chargé : jeudi (10,5 h)",
        "Heure la plus chargée : 09:00–10:00 (3 h)",
    ]


def test_it_lists_bookings_and_occupancy_by_resource(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    rows = find(html, "tr", within=("table", {"data-table": "resources"}))[1:]
    assert [row.text for row in rows] == [
        "Poste 01 poste de travail 1 10,5 h 220,5 h 4,8 %",
        "Salle Jean Bart salle 3 4,5 h 220,5 h 2 %",
    ]
    total = one(html, "tfoot", within=("table", {"data-table": "kinds"}))
    assert total.text == "Total 4 15 h 441 h 3,4 %"


def test_it_shows_visits_by_home_space_and_by_host(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    by_home = find(html, "li", within=("div", {"data-visits": "by-home"}))
    by_host = find(html, "li", within=("div", {"data-visits": "by-host"}))
    assert [item.text for item in by_home] == ["La Filature 2"]
    assert [item.text for item in by_host] == ["La Filature 1"]


def test_the_settlement_table_shows_the_network_balances(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    section = ("section", {"data-settlement": "chtipass"})
    assert "Règlement du réseau ch'tipass Métropole" in one(html, "h2", section).text
    mutualab_row = one(html, "tr", section, data_host="mutualab")
    assert "is-current" in mutualab_row.classes
    # columns in slug order: filature-roubaix, mutualab, quai-tourcoing
    cells = find(html, "td", ("tr", {"data-host": "mutualab"}))
    assert [cell.text for cell in cells] == [
        "2 30,00 € dont 1 à vérifier",
        "—sans objet",
        "0 0,00 €",
    ]
    assert "1 15,00 €" in find(html, "td", ("tr", {"data-host": "filature-roubaix"}))[1].text
    balances = {
        row.attrs["data-space"]: row.text
        for row in find(html, "tr", ("table", {"data-table": "balances"}))
        if "data-space" in row.attrs
    }
    assert balances == {
        "filature-roubaix": "La Filature 1 2 −15,00 €",
        "mutualab": "Mutualab vous 2 1 +15,00 €",
        "quai-tourcoing": "Le Quai 0 0 0,00 €",
    }
    pairs = [
        item.text for item in find(html, "li", section, **{"class": "pair is-current pair--credit"})
    ]
    assert pairs == [
        "La Filature doit 15,00 € à Mutualab visites accueillies : La Filature 1, Mutualab 2"
    ]


def test_a_space_outside_any_network_has_no_settlement(client, verriere):
    dominique = MemberFactory()
    MembershipFactory(member=dominique, space=verriere, role=Membership.Role.CO_MANAGER)

    html = page(client, dominique)

    assert not find(html, "section", data_settlement="chtipass")
    assert "La Verrière ne fait partie d'aucun réseau ch'tipass." in html


def test_the_csv_links_point_to_the_api_exports(client, camille, november):
    html = page(client, camille, **NOVEMBER)

    links = [a.attrs["href"] for a in find(html, "a", within=("ul", {"data-links": "exports"}))]
    assert links == [
        "/api/v1/spaces/mutualab/usage/?month=2026-11&format=csv",
        "/api/v1/network/settlement/?month=2026-11&network=chtipass&format=csv",
    ]
    for link in links:  # the page's session is enough to download them
        response = client.get(link)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")


def test_the_admin_links_open_filtered_lists(client, camille, mutualab, november):
    html = page(client, camille, **NOVEMBER)

    links = {a.attrs["data-admin"]: a.attrs["href"] for a in find(html, "a", data_admin=True)}
    assert links["spaces_resource"] == f"/admin/spaces/resource/?space__id__exact={mutualab.pk}"
    assert links["spaces_booking"] == (
        f"/admin/spaces/booking/?resource__space__id__exact={mutualab.pk}"
        "&start__year=2026&start__month=11"
    )
    assert set(links) >= {"coworking_member", "passes_partnerkey", "passes_pass", "passes_visit"}
    flagged = one(html, "a", within=("div", {"data-figure": "flagged_visits"})).attrs["href"]
    for url in [*links.values(), flagged]:
        # 200, not the admin's redirect to ?e=1 for a filter it refuses
        assert client.get(url).status_code == 200, url


# --- Choosing the month ----------------------------------------------------------------------


def test_it_opens_on_this_month_with_links_to_the_months_around(client, camille):
    html = page(client, camille)

    assert "Mutualab décembre 2026" in one(html, "h1").text
    picker = one(html, "input", name="month")
    assert (picker.attrs["type"], picker.attrs["value"]) == ("month", "2026-12")
    assert one(html, "a", rel="prev").attrs["href"] == (
        "/tableau-de-bord/?space=mutualab&month=2026-11"
    )
    assert one(html, "a", rel="next").attrs["href"] == (
        "/tableau-de-bord/?space=mutualab&month=2027-01"
    )
    assert "novembre 2026" in one(html, "a", rel="prev").text
    assert "Revenir au mois en cours" not in html


def test_another_month_offers_the_way_back(client, camille):
    html = page(client, camille, month="2026-01")

    assert one(html, "input", name="month").attrs["value"] == "2026-01"
    assert one(html, "a", rel="prev").attrs["href"].endswith("month=2025-12")
    assert "Revenir au mois en cours" in html


@pytest.mark.parametrize("month", ["2026-13", "novembre", "0202-11", "2026-1"])
def test_an_invalid_month_falls_back_to_this_month_and_says_so(client, camille, month):
    html = page(client, camille, month=month)

    assert "Mutualab décembre 2026" in one(html, "h1").text
    notice = one(html, "p", data_invalid_month="")
    assert f"Le mois « {month} » n'est pas reconnu" in notice.text


# --- Language and cost -----------------------------------------------------------------------


def test_it_speaks_english_with_accept_language_en(client, camille, november):
    client.force_login(camille)

    html = client.get(DASHBOARD, NOVEMBER, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="en"' in html
    assert "Mutualab November 2026" in one(html, "h1").text
    assert one(html, "h2", id="figures-title").text == "Key figures"
    assert figure(html, "bookings") == ("4", "by 2 members")
    assert figure(html, "booked_hours") == ("15 h", "out of 441 h open")
    assert figure(html, "occupancy")[0] == "3.4%"
    assert figure(html, "balance")[0] == "+€15.00"
    assert heat_cell(html, 3, 15).text == "0.5"
    assert heat_cell(html, 2, 9).attrs["aria-label"] == f"Tuesday, 9 a.m.–10 a.m.: 2{NBSP}h booked"
    assert "La Filature owes €15.00 to Mutualab" in html
    assert "Réservations" not in html


def test_the_number_of_queries_does_not_grow_with_bookings_and_visits(
    client, camille, mutualab, quai, november, django_assert_max_num_queries
):
    client.force_login(camille)
    with CaptureQueriesContext(connection) as small:
        assert client.get(DASHBOARD, NOVEMBER).status_code == 200

    desks = [
        ResourceFactory(space=mutualab, name=f"Poste {n:02}", kind=Resource.Kind.DESK)
        for n in range(2, 6)
    ]
    members = [MemberFactory() for _ in range(6)]
    for member in members:
        MembershipFactory(member=member, space=mutualab)
    for day in range(2, 28):
        for index, desk in enumerate(desks):
            Booking.objects.create(
                resource=desk,
                member=members[(day + index) % len(members)],
                start=paris(2026, 11, day, 9),
                end=paris(2026, 11, day, 12),
            )
    for n in range(5):
        visitor = MemberFactory()
        MembershipFactory(member=visitor, space=quai)
        for day in range(2, 7):
            visit(visitor, november, mutualab, day + n)

    with django_assert_max_num_queries(len(small)):
        assert client.get(DASHBOARD, NOVEMBER).status_code == 200
