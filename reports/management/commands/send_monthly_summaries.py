from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coworking.months import month_parse, month_previous
from reports.tasks import monthly_summaries_run


class Command(BaseCommand):
    help = (
        "Send the monthly usage summaries for a month (default: last month). Safe to run "
        "again: each recipient gets at most one email per month."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")

    def handle(self, *args, month: str | None = None, **options) -> None:
        if month:
            first_day = month_parse(month)
            if first_day is None:
                raise CommandError("--month must look like 2026-11.")
        else:
            first_day = month_previous(timezone.localdate())
        # Through Celery like the beat schedule (in-process in the embedded mode).
        queued = monthly_summaries_run.apply(args=(first_day.isoformat(),)).get()
        self.stdout.write(f"{first_day:%Y-%m}: {queued} summaries queued.")
