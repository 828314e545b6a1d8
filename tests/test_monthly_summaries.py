"""Monthly usage summaries: who gets one, what is in it, and at most one per month."""

import datetime as dt
from email.mime.image import MIMEImage
from unittest import mock

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from config.celery import app as celery_app
from reports import summaries
from reports.models import SummaryDispatch
from spaces.services import booking_create

from .conftest import NOW, paris

pytestmark = pytest.mark.django_db
NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def eager(settings):
    """These tests run the tasks in-process; the real worker is tested elsewhere."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def november_activity(clock, alice, room, camille, dominique, filature_room):
    clock.move_to(paris(2026, 11, 2, 8))
    booking_create(
        member=alice, resource=room, start=paris(2026, 11, 3, 10), end=paris(2026, 11, 3, 12)
    )
    clock.move_to(NOW)


def run_job(month="2026-11"):
    with open("/dev/null", "w") as quiet:
        call_command("send_monthly_summaries", "--month", month, stdout=quiet)


def test_every_co_manager_gets_one_summary(eager, november_activity):
    run_job()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille@mutualab.example",
        "comanager@filature-roubaix.example",
    ]
    assert set(SummaryDispatch.objects.values_list("status", flat=True)) == {"sent"}


def test_running_the_job_twice_sends_each_recipient_exactly_one_email(eager, november_activity):
    run_job()
    run_job()
    summaries.summaries_resume()
    assert len(mail.outbox) == 2
    assert SummaryDispatch.objects.count() == 2


def test_the_summary_has_text_html_and_an_inline_chart(eager, november_activity):
    run_job()
    email = next(m for m in mail.outbox if m.to == ["camille@mutualab.example"])
    assert email.subject == "ch'tipass — votre récapitulatif de novembre 2026"
    assert "Mutualab" in email.body and "Réservations : 1 (2,0 h)" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and 'src="cid:occupancy-mutualab"' in html
    [image] = [part for part in email.attachments if isinstance(part, MIMEImage)]
    assert image["Content-ID"] == "<occupancy-mutualab>"
    assert image.get_payload(decode=True).startswith(b"\x89PNG")
    assert "related" in email.message().get_content_type() or email.mixed_subtype == "related"


def test_a_recipient_reads_it_in_their_language(eager, november_activity, camille):
    camille.language = "en"
    camille.save()
    run_job()
    email = next(m for m in mail.outbox if m.to == ["camille@mutualab.example"])
    assert email.subject == "ch'tipass — your summary for November 2026"


def test_members_who_opt_in_get_a_personal_recap(eager, november_activity, alice, bob):
    alice.monthly_recap = True
    alice.save()
    run_job()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert "alice@mutualab.example" in recipients and "bob@mutualab.example" not in recipients
    email = next(m for m in mail.outbox if m.to == ["alice@mutualab.example"])
    assert "Jours réservés : 1" in email.body
    assert "Taux d'occupation" not in email.body  # not a co-manager: no space figures


def test_the_job_can_be_run_by_hand_for_any_month(eager, november_activity):
    run_job("2026-09")
    assert set(SummaryDispatch.objects.values_list("month", flat=True)) == {dt.date(2026, 9, 1)}
    with pytest.raises(CommandError):
        run_job("september")


def test_by_default_the_job_covers_last_month(eager, november_activity):
    with open("/dev/null", "w") as quiet:
        call_command("send_monthly_summaries", stdout=quiet)
    assert set(SummaryDispatch.objects.values_list("month", flat=True)) == {NOVEMBER}


def test_the_beat_schedule_runs_on_the_first_at_seven_in_paris():
    entry = celery_app.conf.beat_schedule["monthly-summaries"]
    schedule = entry["schedule"]
    assert entry["task"] == "coworking.monthly_summaries_run"
    assert (schedule.minute, schedule.hour, schedule.day_of_month) == ({0}, {7}, {1})
    assert celery_app.conf.timezone == "Europe/Paris"


class TestAtMostOnce:
    @pytest.fixture
    def dispatch(self, clock, camille):
        [dispatch_id] = summaries.summaries_plan(NOVEMBER)
        return SummaryDispatch.objects.get(pk=dispatch_id)

    def test_a_summary_being_built_by_a_live_worker_is_left_alone(self, dispatch):
        SummaryDispatch.objects.filter(pk=dispatch.pk).update(
            status="building", claim_token="worker-a", claimed_at=NOW
        )
        assert summaries.summary_send(dispatch.pk, token="worker-b") == "skipped"
        assert not mail.outbox

    def test_a_worker_that_died_while_building_is_taken_over_after_the_lease(
        self, dispatch, clock, settings
    ):
        SummaryDispatch.objects.filter(pk=dispatch.pk).update(
            status="building", claim_token="worker-a", claimed_at=NOW
        )
        clock.move_to(NOW + dt.timedelta(seconds=settings.SUMMARY_CLAIM_LEASE_SECONDS + 1))
        assert summaries.summary_send(dispatch.pk, token="worker-b") == "sent"
        assert len(mail.outbox) == 1

    def test_the_same_task_redelivered_resumes_its_own_claim(self, dispatch):
        SummaryDispatch.objects.filter(pk=dispatch.pk).update(
            status="building", claim_token="task-1", claimed_at=NOW
        )
        assert summaries.summary_send(dispatch.pk, token="task-1") == "sent"

    def test_a_summary_interrupted_while_sending_is_never_sent_again(
        self, dispatch, clock, settings
    ):
        SummaryDispatch.objects.filter(pk=dispatch.pk).update(
            status="sending", claim_token="worker-a", claimed_at=NOW
        )
        clock.move_to(NOW + dt.timedelta(seconds=settings.SUMMARY_CLAIM_LEASE_SECONDS + 1))
        with mock.patch.object(summaries, "_queue", return_value=0):
            summaries.summaries_resume()
        assert summaries.summary_send(dispatch.pk, token="worker-b") == "skipped"
        dispatch.refresh_from_db()
        assert dispatch.status == "unknown" and not mail.outbox

    def test_a_refused_send_is_retried_a_bounded_number_of_times(self, dispatch):
        with mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")
        ):
            results = [summaries.summary_send(dispatch.pk) for _ in range(5)]
        assert results == ["send_failed"] * summaries.MAX_ATTEMPTS + ["skipped"] * 2
        dispatch.refresh_from_db()
        assert dispatch.status == "failed" and "smtp down" in dispatch.last_error

    def test_planning_twice_creates_one_row_per_recipient(self, dispatch):
        summaries.summaries_plan(NOVEMBER)
        assert SummaryDispatch.objects.count() == 1


def test_the_tasks_keep_the_names_that_queued_messages_and_the_beat_schedule_use():
    # Moving a task to another module must not orphan a message already queued under its name.
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    queued_by_code = {"coworking.summary_send", "coworking.outbox_deliver"}
    assert scheduled | queued_by_code <= set(celery_app.tasks)


def test_the_recap_counts_the_allowance_of_the_pass_the_members_pages_show(
    clock, alice, network, signing, mutualab
):
    """A member with passes in two networks: the recap reads the current pass as the member's
    pages do (newest first, passes.selectors), not whichever row comes first."""
    from passes.models import AllowanceCounter, Network, NetworkSpace
    from passes.selectors import allowance_left, current_pass
    from reports.summary_email import member_recap

    from .conftest import issue_pass

    coast = Network.objects.create(
        slug="littoral", name="Littoral", monthly_visits=3, monthly_visits_per_host=2
    )
    NetworkSpace.objects.create(network=coast, space=mutualab, daily_visitor_capacity=10)
    clock.move_to(paris(2026, 11, 2, 9))
    issue_pass(alice, network)
    clock.move_to(paris(2026, 11, 3, 9))
    newest = issue_pass(alice, coast)
    AllowanceCounter.objects.create(member=alice, network=coast, month=NOVEMBER, used=1)
    clock.move_to(NOW)

    assert current_pass(alice) == newest
    assert member_recap(alice, NOVEMBER)["allowance_left"] == 2
    assert allowance_left(newest, NOVEMBER).network_left == 2
