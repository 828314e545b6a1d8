import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from passes.keys import (
    KeyRegistryError,
    signing_key,
    signing_key_compromised,
    signing_key_create,
    signing_key_rotate,
    signing_keys_reencrypt,
)
from passes.models import SigningKey


class Command(BaseCommand):
    help = "Manage the Ed25519 signing keys: list, ensure, rotate, compromised, reencrypt."

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
        reencrypt = sub.add_parser(
            "reencrypt", help="Encrypt again with SIGNING_KEY_SECRET keys stored under another."
        )
        # The old secret is never typed on a command line (shell history, `ps`): the only one
        # offered is the public development key, which `dev.py start` replaces.
        reencrypt.add_argument("--from-development-secret", action="store_true", required=True)

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
        elif action == "reencrypt":
            done, unreadable = signing_keys_reencrypt(old_secret=settings.DEVELOPMENT_SECRET_KEY)
            if done:
                self.stdout.write(self.style.SUCCESS(f"{done} key(s) encrypted again."))
            if unreadable:
                self.stdout.write(
                    self.style.WARNING(f"{unreadable} key(s) open with neither secret: left as is.")
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
