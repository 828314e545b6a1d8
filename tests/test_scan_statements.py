"""How many SQL statements a scan costs, through the real API view with a partner key.

A scan is the busiest request of a front desk, and every statement is a round trip to the
database. The counts are pinned exactly, on SQLite and on PostgreSQL, so that a new query on the
path is a decision, not an accident (benchmarks/SCANS.md reports what they cost). Transaction
control (BEGIN, COMMIT, savepoints) is left out: SQLite's backend logs it, PostgreSQL's does not.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from passes.models import Visit

from .conftest import partner_client, rotating_credential

# Without the test's own transaction around each request: the scan's transaction is the real one.
pytestmark = pytest.mark.django_db(transaction=True)

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(client, credential, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.scan(credential, **extra)
    assert response.status_code == 200, response.content
    sql = [query["sql"] for query in queries.captured_queries]
    return response.json(), [text for text in sql if not text.startswith(TRANSACTION_CONTROL)]


@pytest.fixture
def at_filature(scanner, filature_key):
    scanner.with_key(filature_key).scan("this first request writes the key's last use")
    return scanner


def test_an_accepted_first_check_in_at_a_partner_host_costs_seven_statements(
    clock, alice_pass, at_filature
):
    # The partner key; the pass with its signing key, link, visit, code use and counters; the
    # Visit; the host's day counter; the two allowance counters; the Scan; the code's first use.
    body, sql = statements(at_filature, rotating_credential(alice_pass), nonce="n-1")
    assert (body["decision"], body["already_checked_in"]) == ("accepted", False)
    assert Visit.objects.count() == 1
    assert len(sql) == 7, "\n".join(sql)


def test_a_check_in_at_a_second_host_that_month_costs_eight_statements(
    clock, alice_pass, quai_key, at_filature
):
    # The network-wide counter exists already (a visit at another host this month) and this
    # host's does not: one is updated and the other inserted, a statement each.
    partner_client(quai_key).scan(rotating_credential(alice_pass))
    clock.shift(30)
    body, sql = statements(at_filature, rotating_credential(alice_pass))
    assert (body["decision"], body["already_checked_in"]) == ("accepted", False)
    assert len(sql) == 8, "\n".join(sql)


def test_a_second_scan_the_same_day_costs_four_statements(clock, alice_pass, at_filature):
    at_filature.scan(rotating_credential(alice_pass))
    clock.shift(30)
    body, sql = statements(at_filature, rotating_credential(alice_pass))
    assert (body["decision"], body["already_checked_in"]) == ("accepted", True)
    assert len(sql) == 4, "\n".join(sql)  # key, the read, the Scan, the code's first use


def test_a_refusal_costs_four_statements(clock, alice_pass, camille, at_filature):
    from passes.services import pass_suspend

    pass_suspend(pass_obj=alice_pass, actor=camille, reason="test")
    body, sql = statements(at_filature, rotating_credential(alice_pass))
    assert (body["decision"], body["reason"]) == ("refused", "suspended")
    assert len(sql) == 4, "\n".join(sql)


def test_a_text_that_is_no_chtipass_costs_two_statements(clock, at_filature):
    body, sql = statements(at_filature, "nonsense")
    assert (body["decision"], body["reason"]) == ("refused", "malformed")
    assert len(sql) == 2, "\n".join(sql)  # the partner key and the refused Scan


@pytest.mark.django_db
def test_the_hand_written_insert_refuses_a_model_with_save_receivers(alice):
    """passes/rows.py skips save(): a receiver added to a scan model later must not be skipped
    silently."""
    from django.db.models.signals import post_save

    from passes.models import Visit
    from passes.rows import insert

    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=Visit)
    try:
        with pytest.raises(TypeError, match="save signal receivers"):
            insert(Visit(member=alice))
    finally:
        post_save.disconnect(receiver, sender=Visit)
