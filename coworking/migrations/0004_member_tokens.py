import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coworking", "0003_dispatch_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="MemberToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("prefix", models.CharField(max_length=8, verbose_name="début du jeton")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="créé le"),
                ),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="expire le")),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="membre",
                    ),
                ),
            ],
            options={
                "verbose_name": "jeton d'API",
                "verbose_name_plural": "jetons d'API",
                "ordering": ["-created_at", "-id"],
            },
        ),
        # The tokens of DRF's authtoken app (no longer installed) never expired and were kept in
        # clear: they are dropped, and their members log in again. Left in place, the table's
        # foreign key would also forbid deleting a member who had one.
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
