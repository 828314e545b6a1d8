"""Drop the PL/pgSQL scan acceptance that 0002 created on PostgreSQL before it became empty.

Every scan now goes through `passes/scanning.py`. Going back does not bring the function back:
no code calls it any more.
"""

from django.db import migrations

SIGNATURE = (
    "chtipass_scan_accept_v1(bigint, text, text, bigint, bigint, bigint, boolean, integer,"
    " bigint, text, timestamptz, timestamptz, text, text, bigint, text)"
)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


class Migration(migrations.Migration):
    dependencies = [("passes", "0003_fewer_indexes")]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop, elidable=True)]
