import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from passes.keys import (
    KeyRegistryError,
    signing_key,
    signing_key_compromised,
    signing_key_create,
    signing_key_rotate,
)
from passes.models import SigningKey


class Command(BaseCommand):
    help = "Manage the Ed25519 signing keys: list, ensure, rotate, compromised."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Show every key and its validity.")
        sub.add_parser("ensure", help="Create a key if none can sign now (idempotent).")
        rotate = sub.add_parser("rotate", help="Publish a new key that signs after a lead time.")
        rotate.add_argument(
            "--lead-hours",
            type=int,
            default=48,
            help="Hours partners have to fetch the new key (default 48).",
        )
        compromised = sub.add_parser("compromised", help="Stop trusting a key at once.")
        compromised.add_argument("kid", type=int)

    def handle(self, *args, action: str, **options) -> None:
        now = timezone.now()
        if action == "ensure":
            try:
                key, _private = signing_key(now)
                self.stdout.write(f"kid {key.kid} signs until {key.sign_until:%Y-%m-%d %H:%M}.")
            except KeyRegistryError:
                key = signing_key_create(not_before=now)
                self.stdout.write(self.style.SUCCESS(f"Created signing key kid {key.kid}."))
        elif action == "rotate":
            key = signing_key_rotate(lead_time=dt.timedelta(hours=options["lead_hours"]), now=now)
            self.stdout.write(
                self.style.SUCCESS(
                    f"New key kid {key.kid} published; "
                    f"it signs from {key.not_before:%Y-%m-%d %H:%M}."
                )
            )
        elif action == "compromised":
            if not SigningKey.objects.filter(kid=options["kid"]).exists():
                raise CommandError(f"No key with kid {options['kid']}.")
            signing_key_compromised(kid=options["kid"])
            self.stdout.write(self.style.WARNING(f"kid {options['kid']} is no longer trusted."))
        for key in SigningKey.objects.order_by("kid"):
            self.stdout.write(
                f"kid {key.kid:3d} {key.status:11s} from {key.not_before:%Y-%m-%d %H:%M} "
                f"signs until {key.sign_until:%Y-%m-%d %H:%M} "
                f"verifies until {key.verify_until:%Y-%m-%d}"
            )
