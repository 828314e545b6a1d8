"""A monthly summary that used its last attempt ends `failed`, never `pending` forever: no job
will send it, so /health/ and the summaries admin show it for a person to look at."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from reports import summaries
from reports.models import SummaryDispatch

from .conftest import NOW

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def dispatch(clock, camille) -> SummaryDispatch:
    [dispatch_id] = summaries.summaries_plan(NOVEMBER)
    return SummaryDispatch.objects.get(pk=dispatch_id)


def send_with(dispatch: SummaryDispatch, **failure) -> list[str]:
    with mock.patch(**failure):
        return [summaries.summary_send(dispatch.pk) for _ in range(summaries.MAX_ATTEMPTS)]


def test_a_summary_the_mail_server_refuses_every_time_ends_failed(dispatch, client):
    results = send_with(
        dispatch, target="django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("no")
    )
    assert results == ["send_failed"] * summaries.MAX_ATTEMPTS
    dispatch.refresh_from_db()
    assert (dispatch.status, dispatch.attempts) == ("failed", summaries.MAX_ATTEMPTS)
    assert summaries.summaries_plan(NOVEMBER) == []  # no job will queue it again
    assert client.get("/health/").json()["summaries"] == {"ok": False, "unknown": 0, "dead": 1}


def test_a_summary_that_cannot_be_built_is_pending_until_its_last_attempt_then_failed(dispatch):
    with mock.patch.object(summaries, "summary_message", side_effect=ValueError("chart")):
        summaries.summary_send(dispatch.pk)
        dispatch.refresh_from_db()
        assert dispatch.status == "pending"  # tried again by the next run
        for _ in range(summaries.MAX_ATTEMPTS - 1):
            assert summaries.summary_send(dispatch.pk) == "build_failed"
    dispatch.refresh_from_db()
    assert dispatch.status == "failed" and "chart" in dispatch.last_error


def test_a_worker_that_died_building_the_last_attempt_leaves_a_failed_summary(
    dispatch, clock, settings
):
    SummaryDispatch.objects.filter(pk=dispatch.pk).update(
        status="building", claim_token="worker-a", claimed_at=NOW, attempts=summaries.MAX_ATTEMPTS
    )
    clock.move_to(NOW + dt.timedelta(seconds=settings.SUMMARY_CLAIM_LEASE_SECONDS + 1))
    with mock.patch.object(summaries, "_queue", return_value=0) as queue:
        summaries.summaries_resume()
    assert queue.call_args.args == ([],)
    dispatch.refresh_from_db()
    assert dispatch.status == "failed"


def test_a_worker_still_building_its_last_attempt_is_left_alone(dispatch):
    SummaryDispatch.objects.filter(pk=dispatch.pk).update(
        status="building", claim_token="worker-a", claimed_at=NOW, attempts=summaries.MAX_ATTEMPTS
    )
    with mock.patch.object(summaries, "_queue", return_value=0):
        summaries.summaries_resume()
    dispatch.refresh_from_db()
    assert dispatch.status == "building"
