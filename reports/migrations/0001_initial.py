"""SummaryDispatch moves from `coworking` to `reports`: only Django's state moves. The table
(`coworking_summarydispatch`), its rows and its constraint stay where they are; the content type
is renamed so that permissions granted on it and admin log entries keep pointing at it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A database created after the move already has the new one (post_migrate): keep that.
    if not ContentType.objects.using(db).filter(app_label="reports", model="summarydispatch").exists():
        ContentType.objects.using(db).filter(
            app_label="coworking", model="summarydispatch"
        ).update(app_label="reports")


def content_type_returns(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label="reports", model="summarydispatch"
    ).update(app_label="coworking")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("coworking", "0004_member_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SummaryDispatch",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("month", models.DateField(verbose_name="mois")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "à envoyer"),
                                    ("building", "en préparation"),
                                    ("sending", "en cours d'envoi"),
                                    ("sent", "envoyé"),
                                    ("unknown", "interrompu pendant l'envoi"),
                                    ("failed", "échec"),
                                ],
                                default="pending",
                                max_length=10,
                                verbose_name="statut",
                            ),
                        ),
                        ("claim_token", models.CharField(blank=True, max_length=64)),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="envoyé le")),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="summaries",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="destinataire",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "récapitulatif mensuel",
                        "verbose_name_plural": "récapitulatifs mensuels",
                        "ordering": ["-month", "recipient"],
                        "db_table": "coworking_summarydispatch",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("recipient", "month"), name="summary_once_per_month"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_returns),
    ]
