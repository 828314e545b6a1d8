"""SummaryDispatch now belongs to `reports` (reports/migrations/0001_initial.py): it leaves
coworking's state only. The table and its rows stay; `reports` now names them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coworking", "0004_member_tokens"),
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SummaryDispatch")],
            database_operations=[],
        ),
    ]
