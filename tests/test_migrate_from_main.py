"""A database built before the floors were split (issue #10) migrates to today's head with
every row still there: the moves are state-only (SeparateDatabaseAndState, `db_table`).

The database is migrated back to the migration state main had then, filled through the
historical models of that state, then migrated forward again. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# The leaf migrations of main before the floors were split: the state a deployed database is in.
MAIN_BEFORE_FLOORS = [
    ("coworking", "0004_member_tokens"),
    ("spaces", "0003_booking_confirmed_span_index"),
    ("passes", "0005_scan_nonce_reuse_and_account_inactive"),
    ("reports", None),  # did not exist
]
OUR_APPS = {"coworking", "spaces", "passes", "reports"}
UTC = dt.UTC


def _migrate(targets: list[tuple[str, str | None]]) -> Apps:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    applied = [(app, name) for app, name in targets if name is not None]
    return MigrationExecutor(connection).loader.project_state(applied).apps


def _head() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _targets_before_floors() -> list[tuple[str, str | None]]:
    others = [(app, name) for app, name in _head() if app not in OUR_APPS]
    return [*others, *MAIN_BEFORE_FLOORS]


@pytest.fixture
def main_state() -> Iterator[Apps]:
    """The database at main's state before the split; back at head afterwards, whatever happens."""
    try:
        yield _migrate(_targets_before_floors())
    finally:
        _migrate(_head())


def _tables(apps: Apps) -> list[str]:
    """Every table of our apps in `apps`, many-to-many tables included."""
    tables = []
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        tables.append(model._meta.db_table)
        tables += [
            field.remote_field.through._meta.db_table
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
    return sorted(set(tables))


def _counts(tables: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _fill(apps: Apps) -> dict[str, int]:
    """One or more rows in every table of main's state, through its historical models; returns
    the ids of a few rows to look at again."""
    get = apps.get_model
    now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    member = get("coworking", "Member").objects.create(
        email="alice@mutualab.example", first_name="Alice", password="!", monthly_recap=True
    )
    other = get("coworking", "Member").objects.create(
        email="bob@filature.example", first_name="Bob", password="!"
    )
    group = get("auth", "Group").objects.create(name="Accueil")
    member.groups.add(group)
    content_type, _created = get("contenttypes", "ContentType").objects.get_or_create(
        app_label="coworking", model="auditentry"
    )
    permission, _created = get("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_auditentry", defaults={"name": "Can view"}
    )
    member.user_permissions.add(permission)
    get("coworking", "AuditEntry").objects.create(
        actor=member, action="member.login", target_type="member", target_id=str(member.pk)
    )
    get("coworking", "OutboxMessage").objects.create(kind="booking.confirmed", payload={"id": 1})
    get("coworking", "MemberToken").objects.create(
        member=member, digest="d" * 64, prefix="abcdefgh", expires_at=now + dt.timedelta(days=30)
    )
    summary = get("coworking", "SummaryDispatch").objects.create(
        recipient=member, month=dt.date(2026, 10, 1), status="sent", sent_at=now, attempts=1
    )
    Space = get("spaces", "Space")
    home = Space.objects.create(slug="mutualab", name="MutuaLab")
    host = Space.objects.create(slug="filature-roubaix", name="La Filature")
    plan = get("spaces", "Plan").objects.create(space=home, name="Résident")
    membership = get("spaces", "Membership").objects.create(
        member=member, space=home, plan=plan, starts_on=dt.date(2026, 1, 1)
    )
    get("spaces", "Membership").objects.create(
        member=other, space=host, starts_on=dt.date(2026, 1, 1)
    )
    training = get("spaces", "Training").objects.create(space=home, name="Découpe laser")
    get("spaces", "TrainingRecord").objects.create(
        member=member, training=training, granted_on=dt.date(2026, 2, 1)
    )
    room = get("spaces", "Resource").objects.create(space=home, name="Salle Vauban", kind="room")
    get("spaces", "Closure").objects.create(
        space=home, starts_on=dt.date(2026, 12, 24), ends_on=dt.date(2026, 12, 26)
    )
    series = get("spaces", "BookingSeries").objects.create(
        member=member, resource=room, until=dt.date(2026, 12, 31)
    )
    booking = get("spaces", "Booking").objects.create(
        member=member,
        resource=room,
        series=series,
        start=dt.datetime(2026, 12, 2, 9, tzinfo=UTC),
        end=dt.datetime(2026, 12, 2, 10, tzinfo=UTC),
        note="Réunion",
    )
    network = get("passes", "Network").objects.create(slug="hauts-de-france", name="HdF")
    get("passes", "NetworkSpace").objects.create(network=network, space=home)
    get("passes", "NetworkSpace").objects.create(network=network, space=host)
    pass_obj = get("passes", "Pass").objects.create(
        member=member, membership=membership, network=network
    )
    get("passes", "SigningKey").objects.create(
        kid=1,
        public_key="A" * 43,
        encrypted_private_key=b"sealed",
        not_before=now,
        sign_until=now + dt.timedelta(days=90),
        verify_until=now + dt.timedelta(days=120),
    )
    get("passes", "PartnerKey").objects.create(
        space=host, name="Porte", prefix="prefix01", hashed_key="h", id="prefix01.h"
    )
    scan = get("passes", "Scan").objects.create(
        pass_obj=pass_obj,
        host=host,
        credential="CP1:XYZ",
        scanned_at=now,
        received_at=now,
        decision="accepted",
    )
    get("passes", "CounterUse").objects.create(
        pass_obj=pass_obj, host=host, counter=7, first_scan=scan
    )
    visit = get("passes", "Visit").objects.create(
        member=member,
        pass_obj=pass_obj,
        network=network,
        host=host,
        home=home,
        date=dt.date(2026, 11, 30),
        uses_allowance=True,
    )
    get("passes", "AllowanceCounter").objects.create(
        member=member, network=network, month=dt.date(2026, 11, 1), used=1
    )
    get("passes", "HostDayCounter").objects.create(
        network=network, host=host, date=dt.date(2026, 11, 30), used=1
    )
    get("passes", "RevocationEvent").objects.create(
        network=network, pass_obj=pass_obj, action="suspend"
    )
    return {
        "member": member.pk,
        "summary": summary.pk,
        "booking": booking.pk,
        "visit": visit.pk,
        "scan": scan.pk,
    }


def test_a_database_of_main_before_the_floors_keeps_every_row_at_the_new_head(main_state):
    ids = _fill(main_state)
    tables = _tables(main_state)
    before = _counts(tables)
    empty = [table for table, count in before.items() if not count]
    assert not empty, f"the test fills every table of main's state; empty: {empty}"

    apps = _migrate(_head())

    assert _counts(tables) == before
    summary = apps.get_model("reports", "SummaryDispatch").objects.get(pk=ids["summary"])
    assert (summary.recipient_id, summary.month, summary.status) == (
        ids["member"],
        dt.date(2026, 10, 1),
        "sent",
    )
    assert apps.get_model("coworking", "Member").objects.get(pk=ids["member"]).monthly_recap
    booking = apps.get_model("spaces", "Booking").objects.get(pk=ids["booking"])
    assert (booking.note, booking.member_id) == ("Réunion", ids["member"])
    visit = apps.get_model("passes", "Visit").objects.get(pk=ids["visit"])
    assert (visit.date, visit.uses_allowance) == (dt.date(2026, 11, 30), True)
    assert apps.get_model("passes", "Scan").objects.get(pk=ids["scan"]).credential == "CP1:XYZ"


def test_the_summaries_content_type_follows_the_model_so_permissions_stay_attached(main_state):
    ContentType = main_state.get_model("contenttypes", "ContentType")
    Permission = main_state.get_model("auth", "Permission")
    ContentType.objects.filter(model="summarydispatch").delete()
    old = ContentType.objects.create(app_label="coworking", model="summarydispatch")
    permission = Permission.objects.create(
        content_type=old, codename="view_summarydispatch", name="Can view"
    )

    apps = _migrate(_head())

    moved = apps.get_model("auth", "Permission").objects.get(pk=permission.pk).content_type
    assert (moved.pk, moved.app_label) == (old.pk, "reports")
