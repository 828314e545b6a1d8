import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from coworking.summaries import previous_month
from coworking.tasks import monthly_summaries_run


class Command(BaseCommand):
    help = (
        "Send the monthly usage summaries for a month (default: last month). Safe to run "
        "again: each recipient gets at most one email per month."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")

    def handle(self, *args, month: str | None = None, **options) -> None:
        if month:
            try:
                first_day = dt.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError("--month must look like 2026-11.") from None
        else:
            first_day = previous_month()
        # Through Celery like the beat schedule (in-process in the embedded mode).
        queued = monthly_summaries_run.apply(args=(first_day.isoformat(),)).get()
        self.stdout.write(f"{first_day:%Y-%m}: {queued} summaries queued.")
