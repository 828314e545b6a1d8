from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from reports.demo import PASSWORD, demo_logins, demo_seed


class Command(BaseCommand):
    help = "Create the demo data (only with CHTIPASS_DEMO=1) and print the logins."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo data is only created in demo mode (CHTIPASS_DEMO=1).")
        call_command("signing_keys", "ensure", stdout=self.stdout)
        created = demo_seed()
        self.stdout.write("Demo data created." if created else "Demo data already present.")
        self.stdout.write(f"\nLogins (password for all: {PASSWORD}):")
        for email, who in demo_logins():
            self.stdout.write(f"  {email:<40} {who}")
