"""The partner scanner: the page at the door, the pairing of a browser, its service worker.

The scanner page needs no session: a tablet at the door holds a partner key in its browser
(localStorage) and talks to the API with it. Pairing is the only step that needs a co-manager.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import PartnerKeyAuthentication
from api.permissions import IsPartnerKey
from coworking.http import AuthenticatedHttpRequest
from passes.models import Scan
from passes.partner_keys import partner_key_create
from spaces.models import Space
from spaces.selectors import co_managed_spaces

# The raw key travels from the POST to the page after the redirect in a signed, short-lived,
# HttpOnly cookie: it is never written on the server, and the page that reads it deletes it.
PAIRING_COOKIE = "chtipass_pairing"
PAIRING_SALT = "web.scanner.pairing"
PAIRING_MAX_AGE = 300

SERVICE_WORKER_SOURCE = Path(__file__).resolve().parent / "static" / "web" / "scanner-sw.js"
# What the service worker keeps for a visit without network (plus the page itself).
OFFLINE_ASSETS = (
    "web/app.css",
    "web/icon.svg",
    "web/scanner.css",
    "web/scanner.js",
    "web/scanner-verify.js",
    "web/vendor/jsQR.js",
    "web/vendor/noble-ed25519.js",
)


def _reason_labels() -> dict[str, str]:
    """Scan reason code -> the reason in words, in the active language."""
    return {code: str(label) for code, label in Scan.Reason.choices}


def _interface_text() -> dict[str, str]:
    """The words scanner.js shows; %(name)s placeholders are filled in by the script."""
    return {
        "idle": _("Présentez un ch'tipass"),
        "checking": _("Vérification…"),
        "accepted": _("Accepté"),
        "already_checked_in": _("Déjà enregistré aujourd'hui"),
        "refused": _("Refusé"),
        "cannot_check": _("Vérification impossible"),
        "offline": _("hors ligne"),
        "id_check": _("Vérifier une pièce d'identité"),
        "home_space": _("Lieu d'origine : %(space)s"),
        "visits_left": _("Visites restantes ce mois-ci : %(host)s ici, %(network)s dans le réseau"),
        "flagged": _("À vérifier"),
        "pending": _("en attente d'envoi"),
        "synced": _("envoyé"),
        "server_refused": _("refusé par le serveur"),
        "rejected": _("rejeté par le serveur"),
        "banner_offline_one": ngettext(
            "Hors ligne — %(count)s passage en attente",
            "Hors ligne — %(count)s passages en attente",
            1,
        ),
        "banner_offline_other": ngettext(
            "Hors ligne — %(count)s passage en attente",
            "Hors ligne — %(count)s passages en attente",
            2,
        ),
        "banner_pending_one": ngettext(
            "%(count)s passage hors ligne en attente d'envoi",
            "%(count)s passages hors ligne en attente d'envoi",
            1,
        ),
        "banner_pending_other": ngettext(
            "%(count)s passage hors ligne en attente d'envoi",
            "%(count)s passages hors ligne en attente d'envoi",
            2,
        ),
        "sending": _("Envoi en cours…"),
        "synced_at": _("Clés et liste de révocation à jour : %(time)s"),
        "never_synced": _(
            "Clés publiques jamais téléchargées : ce lecteur ne peut rien vérifier hors ligne."
        ),
        "sync_failed": _("Mise à jour impossible pour l'instant ; nouvel essai bientôt."),
        "key_refused": _("Clé de lecteur refusée par le serveur : appairez ce lecteur à nouveau."),
        "server_error": _("Erreur du serveur (%(status)s)."),
        "paste_invalid": _("Cette clé n'est pas reconnue."),
        "paste_offline": _("Impossible de vérifier la clé sans réseau. Réessayez en ligne."),
        "unpair_confirm": _("Dé-appairer ce lecteur ? La clé sera oubliée sur cet appareil."),
        "unpair_pending": _(
            "%(count)s passages hors ligne n'ont pas encore été envoyés et seront perdus. "
            "Dé-appairer quand même ?"
        ),
        "camera_start": _("Activer la caméra"),
        "camera_stop": _("Arrêter la caméra"),
        "camera_denied": _("Accès à la caméra refusé : autorisez-le dans le navigateur."),
        "camera_missing": _("Aucune caméra disponible."),
        "camera_failed": _("Caméra indisponible : %(error)s"),
        "key_name_unknown": _("clé %(prefix)s"),
    }


def scanner(request: HttpRequest) -> HttpResponse:
    """The scanner screen: no login, a paired partner key in the browser does the talking."""
    response = render(
        request,
        "web/scanner/scanner.html",
        {
            "reason_labels": _reason_labels(),
            "scanner_text": _interface_text(),
        },
    )
    # The service worker keeps a copy for offline use; browsers should still ask every time.
    patch_cache_control(response, no_cache=True)
    return response


class PairingForm(forms.Form):
    space = forms.ModelChoiceField(queryset=Space.objects.none())

    def __init__(self, *args, spaces: QuerySet[Space], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = spaces  # type: ignore[attr-defined]  # a ModelChoiceField


def _co_managed_spaces(request: AuthenticatedHttpRequest):
    spaces = co_managed_spaces(request.user)
    if not spaces:
        raise PermissionDenied
    return spaces


@login_required
def scanner_pair(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A co-manager creates a partner key for one of their spaces and hands it to this browser."""
    spaces = _co_managed_spaces(request)
    if request.method == "POST":
        # Another space's id is "not found": co-managers see only their own spaces. The form
        # reads the id ("²" is a digit to str.isdigit, not to int).
        form = PairingForm(request.POST, spaces=spaces)
        if not form.is_valid():
            raise Http404
        space = form.cleaned_data["space"]
        moment = formats.date_format(timezone.localtime(), "Y-m-d H:i")
        name = _("Navigateur – %(date)s") % {"date": moment}
        partner_key, key = partner_key_create(space=space, name=name[:50], actor=request.user)
        response = redirect("web:scanner_paired")
        response.set_signed_cookie(
            PAIRING_COOKIE,
            json.dumps(
                {
                    "key": key,
                    "prefix": partner_key.prefix,
                    "space_name": space.name,
                    "space_slug": space.slug,
                }
            ),
            salt=PAIRING_SALT,
            max_age=PAIRING_MAX_AGE,
            path=reverse("web:scanner_paired"),
            secure=request.is_secure(),
            httponly=True,
            samesite="Strict",
        )
        return response
    return render(request, "web/scanner/pair.html", {"spaces": spaces})


@never_cache
@login_required
def scanner_paired(request: HttpRequest) -> HttpResponse:
    """After the pairing POST: gives the new key to the page's script once, then forgets it."""
    try:
        pairing = json.loads(
            # Without a default it raises KeyError rather than return None.
            request.get_signed_cookie(PAIRING_COOKIE, salt=PAIRING_SALT, max_age=PAIRING_MAX_AGE)  # type: ignore[arg-type]
        )
    except (KeyError, signing.BadSignature, ValueError):
        pairing = None
    response = render(request, "web/scanner/paired.html", {"pairing": pairing})
    response.delete_cookie(PAIRING_COOKIE, path=reverse("web:scanner_paired"), samesite="Strict")
    return response


@extend_schema(exclude=True)  # the scanner page's own helper, not part of the public API
class ScannerDeviceView(APIView):
    """Which space and key a partner key stands for: the scanner checks a pasted key with it."""

    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [IsPartnerKey]

    def get(self, request):
        partner_key = request.auth
        return Response(
            {
                "space": {"slug": partner_key.space.slug, "name": partner_key.space.name},
                "key": {"prefix": partner_key.prefix, "name": partner_key.name},
            }
        )


@require_GET
def scanner_service_worker(request: HttpRequest) -> HttpResponse:
    """scanner-sw.js, served under /lecteur/ so that its scope covers the scanner page.

    A prelude names the files to keep, with their current (possibly hashed) static URLs, and a
    cache name made from them and their content: when one changes, so do these bytes, and
    browsers install the new worker.
    """
    precache = [reverse("web:scanner"), *(static(path) for path in OFFLINE_ASSETS)]
    source = SERVICE_WORKER_SOURCE.read_text(encoding="utf-8")
    digest = hashlib.sha256((json.dumps(precache) + source).encode())
    # Unhashed static URLs (development) change content, not names: the content counts too.
    for path in OFFLINE_ASSETS:
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    version = digest.hexdigest()[:16]
    prelude = (
        f"const PRECACHE = {json.dumps(precache)};\n"
        f"const CACHE_NAME = {json.dumps('chtipass-scanner-' + version)};\n"
        f"const SCANNER_PAGE = {json.dumps(reverse('web:scanner'))};\n"
    )
    response = HttpResponse(prelude + source, content_type="text/javascript; charset=utf-8")
    patch_cache_control(response, no_cache=True)
    return response
