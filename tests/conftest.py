"""Personas and fixtures.

- Mutualab (Lille) and La Filature (Roubaix), both open Mon–Fri 08:30–19:00.
- Alice: resident member of Mutualab. Bob: Mutualab member on a 10-days nomade plan.
- Charlie: member of La Filature only, with no access to Mutualab's things.
- Camille: co-manager of Mutualab. Dominique: co-manager of La Filature.
- The clock is frozen on Tuesday 1 December 2026, 09:00 in Paris, unless a test moves it.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from spaces.models import Membership, Resource

from .factories import (
    MemberFactory,
    MembershipFactory,
    PlanFactory,
    ResourceFactory,
    SpaceFactory,
    TrainingFactory,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
TOMORROW = dt.date(2026, 12, 2)


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def mutualab(db):
    return SpaceFactory(slug="mutualab", name="Mutualab")


@pytest.fixture
def filature(db):
    return SpaceFactory(slug="filature-roubaix", name="La Filature")


@pytest.fixture
def resident_plan(mutualab):
    return PlanFactory(space=mutualab, name="Résident")


@pytest.fixture
def nomade_plan(mutualab):
    return PlanFactory(space=mutualab, name="Nomade", desk_days_per_month=10)


def _member(first_name: str, email: str, space, *, plan=None, role=Membership.Role.MEMBER):
    member = MemberFactory(first_name=first_name, email=email)
    MembershipFactory(member=member, space=space, plan=plan, role=role)
    return member


@pytest.fixture
def alice(mutualab, resident_plan):
    return _member("Alice", "alice@mutualab.example", mutualab, plan=resident_plan)


@pytest.fixture
def bob(mutualab, nomade_plan):
    return _member("Bob", "bob@mutualab.example", mutualab, plan=nomade_plan)


@pytest.fixture
def charlie(filature):
    return _member("Charlie", "charlie@filature.example", filature)


@pytest.fixture
def camille(mutualab):
    return _member("Camille", "camille@mutualab.example", mutualab, role=Membership.Role.CO_MANAGER)


@pytest.fixture
def dominique(filature):
    return _member(
        "Dominique", "comanager@filature-roubaix.example", filature, role=Membership.Role.CO_MANAGER
    )


@pytest.fixture
def desk(mutualab):
    return ResourceFactory(
        space=mutualab, name="Poste 01", kind=Resource.Kind.DESK, desk_type=Resource.DeskType.HOT
    )


@pytest.fixture
def room(mutualab):
    return ResourceFactory(
        space=mutualab, name="Salle Jean Bart", kind=Resource.Kind.ROOM, capacity=8
    )


@pytest.fixture
def laser(mutualab):
    training = TrainingFactory(space=mutualab, name="Laser safety")
    return ResourceFactory(
        space=mutualab, name="Découpeuse laser", kind=Resource.Kind.MACHINE, training=training
    )


@pytest.fixture
def filature_room(filature):
    return ResourceFactory(space=filature, name="Salle Roubaix", kind=Resource.Kind.ROOM)


@pytest.fixture
def api():
    """An API client; `api.as_(member)` authenticates it as that member."""

    class Client(APIClient):
        def as_(self, member):
            self.force_authenticate(member)
            return self

    return Client()


# --- The ch'tipass network -------------------------------------------------------------------
# Mutualab, La Filature and Le Quai share a network; La Verrière is not in it.


@pytest.fixture
def quai(db):
    return SpaceFactory(slug="quai-tourcoing", name="Le Quai")


@pytest.fixture
def verriere(db):
    return SpaceFactory(slug="verriere-villeneuve", name="La Verrière")


@pytest.fixture
def network(mutualab, filature, quai):
    from passes.models import Network, NetworkSpace

    network = Network.objects.create(
        slug="chtipass", name="ch'tipass Métropole", monthly_visits=8, monthly_visits_per_host=4
    )
    for space in (mutualab, filature, quai):
        NetworkSpace.objects.create(network=network, space=space, daily_visitor_capacity=10)
    return network


@pytest.fixture
def signing(db):
    """A signing key valid since long before the frozen clock."""
    from passes.keys import signing_key_create

    return signing_key_create(not_before=NOW - dt.timedelta(days=30))


def issue_pass(member, network):
    from passes.services import pass_issue

    return pass_issue(membership=member.memberships.get(), network=network)


@pytest.fixture
def alice_pass(alice, network, signing):
    return issue_pass(alice, network)


@pytest.fixture
def bob_pass(bob, network, signing):
    return issue_pass(bob, network)


def make_partner_key(space, name="Tablette de l'accueil") -> str:
    from passes.models import PartnerKey

    _partner_key, key = PartnerKey.objects.create_key(name=name, space=space)
    return key


@pytest.fixture
def filature_key(filature):
    return make_partner_key(filature)


@pytest.fixture
def quai_key(quai):
    return make_partner_key(quai)


@pytest.fixture
def mutualab_key(mutualab):
    return make_partner_key(mutualab)


class Scanner(APIClient):
    def with_key(self, key):
        self.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return self

    def scan(self, credential, **extra):
        return self.post("/api/v1/scans/", {"credential": credential, **extra}, format="json")


def partner_client(key) -> Scanner:
    """A separate scanner client for a second space in the same test."""
    return Scanner().with_key(key)


@pytest.fixture
def scanner():
    """An API client acting as a partner scanner: `scanner.with_key(key).scan(credential)`."""
    return Scanner()


def rotating_credential(pass_obj, at=None) -> str:
    from passes.services import credential_rotating

    return credential_rotating(pass_obj, now=at)[0][1]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


# --- Tests that only mean something on PostgreSQL (`@pytest.mark.postgres`) -------------------
# On SQLite they skip and say why. In CI's PostgreSQL pass (CI_EXPECT_POSTGRES=1) a skip would
# hide that the pass ran on the wrong database, or that a test skipped itself: both fail.


def expects_postgresql() -> bool:
    return os.environ.get("CI_EXPECT_POSTGRES") == "1"


def _configured_for_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is None or _configured_for_postgresql():
        return
    if expects_postgresql():
        pytest.fail("CI_EXPECT_POSTGRES=1, but the tests run on SQLite: set DATABASE_URL")
    pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…); CI's second pass runs it")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    expected_failure = hasattr(report, "wasxfail")
    if (
        report.skipped
        and not expected_failure
        and expects_postgresql()
        and item.get_closest_marker("postgres")
    ):
        report.outcome = "failed"
        report.longrepr = f"a PostgreSQL test skipped in the PostgreSQL pass: {report.longrepr}"
