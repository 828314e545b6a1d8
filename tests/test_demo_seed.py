"""The demo data of SPEC §7: only in demo mode, the same every time, ready to try."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from coworking.models import Member
from passes.models import Pass, Visit
from passes.selectors import allowance_left, current_pass
from reports.demo import PASSWORD, demo_logins
from spaces.models import Booking, Membership

from .conftest import make_partner_key, partner_client, rotating_credential

pytestmark = pytest.mark.django_db


def test_demo_data_is_never_created_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("demo_seed")
    assert not Member.objects.exists()


def test_the_demo_is_ready_to_try_and_the_same_every_time(settings, clock):
    """One seed (it takes seconds), several promises of SPEC §7."""
    from spaces.models import Space

    settings.DEMO_MODE = True
    with open("/dev/null", "w") as quiet:
        call_command("demo_seed", stdout=quiet)

    # Every printed login works with the demo password.
    emails = [email for email, _who in demo_logins()]
    assert {
        "camille@mutualab.example",
        "alice@mutualab.example",
        "bob@mutualab.example",
        "comanager@quai-tourcoing.example",
    } <= set(emails)
    request = RequestFactory().post("/connexion/")
    for email in emails:
        assert authenticate(request, username=email, password=PASSWORD) is not None, email

    # About 300 members at Mutualab, and weeks of bookings and visits.
    assert Membership.objects.filter(space__slug="mutualab").count() == 300
    assert Booking.objects.count() > 1000
    assert Visit.objects.count() > 100

    # Alice and Bob keep visits left at every partner space, and a scan works at once.
    for email in ("alice@mutualab.example", "bob@mutualab.example"):
        left = allowance_left(current_pass(Member.objects.get(email=email)))
        assert left.network_left > 0
        assert set(left.per_host_left) == {
            "filature-roubaix",
            "quai-tourcoing",
            "verriere-villeneuve",
        }
        assert all(value > 0 for value in left.per_host_left.values()), left
    alice_pass = current_pass(Member.objects.get(email="alice@mutualab.example"))
    key = make_partner_key(Space.objects.get(slug="quai-tourcoing"))
    body = partner_client(key).scan(rotating_credential(alice_pass)).json()
    assert body["decision"] == "accepted", body

    # Running it again changes nothing.
    counts = (Member.objects.count(), Booking.objects.count(), Pass.objects.count())
    with open("/dev/null", "w") as quiet:
        call_command("demo_seed", stdout=quiet)
    assert (Member.objects.count(), Booking.objects.count(), Pass.objects.count()) == counts
