"""No double booking, enforced by the database whatever path writes.

PostgreSQL: an exclusion constraint over (resource, [start, end)) ignoring cancelled rows.
SQLite: triggers that abort an overlapping insert or update.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

PG_ADD = """
ALTER TABLE spaces_booking ADD CONSTRAINT booking_no_overlap
EXCLUDE USING gist (resource_id WITH =, tstzrange("start", "end", '[)') WITH &&)
WHERE (status <> 'cancelled')
"""
PG_DROP = "ALTER TABLE spaces_booking DROP CONSTRAINT IF EXISTS booking_no_overlap"

SQLITE_OVERLAP = """
NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM spaces_booking AS other
    WHERE other.resource_id = NEW.resource_id AND other.status <> 'cancelled'
      AND other.id IS NOT NEW.id
      AND other."start" < NEW."end" AND other."end" > NEW."start"
)
"""
SQLITE_ADD = [
    f"""CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON spaces_booking
    WHEN {SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_conflict'); END""",
    f"""CREATE TRIGGER booking_no_overlap_update
    BEFORE UPDATE OF resource_id, "start", "end", status ON spaces_booking
    WHEN {SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_conflict'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS booking_no_overlap_insert",
    "DROP TRIGGER IF EXISTS booking_no_overlap_update",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [PG_ADD], "sqlite": SQLITE_ADD}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [PG_DROP], "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("spaces", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
