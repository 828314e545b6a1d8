"""Once created `chtipass_scan_accept_v1`, a PL/pgSQL copy of the scan acceptance.

That second engine is gone (one implementation per rule: `passes/scanning.py`). This migration
stays, empty, so that migration history is the same everywhere; 0004 drops the function from the
databases that still have it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("passes", "0001_initial")]

    operations: list = []
