"""A GiST index on the span of confirmed bookings: "what is booked in this space on this day".

The exclusion constraint's index (0002) starts with the resource, so a search by span alone,
across every resource of a space, reads much of it: ~1.2 ms for a day of 5,000 bookings, against
~0.4 ms with this one (benchmarks/README.md, section 2). PostgreSQL only: SQLite has no GiST and
keeps searching on start and end. Built CONCURRENTLY, so that adding it to a busy table does not
hold up bookings; it adds no measurable time to an insert.
"""

from django.db import migrations

PG_ADD = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS booking_confirmed_span ON spaces_booking
USING gist (tstzrange("start", "end", '[)')) WHERE (status = 'confirmed')
"""
PG_DROP = "DROP INDEX CONCURRENTLY IF EXISTS booking_confirmed_span"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_ADD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("spaces", "0002_booking_no_overlap")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
