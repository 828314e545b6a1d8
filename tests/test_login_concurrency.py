"""Wrong passwords sent in parallel for one account: still at most five are checked.

Each attempt reads the account's failures before it checks the password and records its own
after: attempts in flight together would each see room left. Here every password check waits
until all the attempts have either reached a password check or been answered without one, so
that they overlap whatever the scheduling.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from coworking.models import Member

from .factories import PASSWORD
from .test_booking_concurrency import run_concurrently, threads_for_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_parallel_wrong_passwords_check_at_most_the_limit(alice, monkeypatch):
    count = threads_for_backend()
    condition = threading.Condition()
    checked = answered_unchecked = 0
    in_check = threading.local()
    original = Member.check_password

    def slow_check(member, raw_password):
        nonlocal checked
        in_check.entered = True
        with condition:
            checked += 1
            condition.notify_all()
            condition.wait_for(lambda: checked + answered_unchecked >= count, timeout=20)
        return original(member, raw_password)

    monkeypatch.setattr(Member, "check_password", slow_check)

    def attempt(index: int) -> int:
        nonlocal answered_unchecked
        in_check.entered = False
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"email": alice.email, "password": f"wrong-{index}"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{index + 1}",  # each its own client: no address limit
        )
        if not in_check.entered:
            with condition:
                answered_unchecked += 1
                condition.notify_all()
        return response.status_code

    statuses = run_concurrently(count, attempt)

    assert all(isinstance(status, int) for status in statuses), statuses
    assert checked <= settings.AXES_FAILURE_LIMIT, statuses
    assert set(statuses) <= {401, 429}
    # Every attempt counted as a failure: the right password is refused now.
    monkeypatch.setattr(Member, "check_password", original)
    right = APIClient().post(
        "/api/v1/auth/token/", {"email": alice.email, "password": PASSWORD}, format="json"
    )
    assert right.status_code == 429
