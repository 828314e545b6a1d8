"""The ch'tipass API: the member's pass, scanning, offline sync, keys, partner keys."""

from __future__ import annotations

import datetime as dt
import re
import threading

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from passes import codec
from passes.keys import published_keys
from passes.models import Network, NetworkSpace, PartnerKey, Pass, Scan, Visit
from passes.partner_keys import partner_key_create, partner_key_revoke
from passes.qr import qr_png, qr_svg
from passes.revocations import revocation_list
from passes.scanning import ScanRequest, scan_batch, scan_record
from passes.selectors import allowance_left, current_pass
from passes.services import (
    credential_rotating,
    credential_static,
    pass_reinstate,
    pass_revoke,
    pass_suspend,
)
from spaces.models import Space
from spaces.selectors import co_managed_space_ids

from . import passes_serializers as s
from .permissions import IsPartnerKey, co_manages


class PartnerThrottle(ScopedRateThrottle):
    """Throttle scanners per key (request.user is anonymous for them), in fixed windows.

    DRF's throttles keep every request's time in one cache entry, read and rewritten whole on
    each request: at a front desk's rate that is hundreds of floats pickled per scan. Here each
    key has a counter per window in the shared cache. Far from the limit, a process tells the
    cache its scans ten at a time (one round trip per ten scans); within `_NEAR` of the limit,
    at every scan, so the limit holds to the request in one process and to a few requests across
    several. A burst may straddle two windows (up to twice the rate over one window's length):
    fine for a limit meant to stop a runaway device. If the cache is down, scans go through, as
    with DRF's throttles.
    """

    _BATCH = 10
    _NEAR = 4 * _BATCH  # room for a few worker processes' unsent counts
    _lock = threading.Lock()
    # key id → [window, scans not yet told to the cache, the cache's count when last told]
    _tallies: dict[str, list[int]] = {}

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, PartnerKey):
            return super().allow_request(request, view)
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        window = int(self.timer() // self.duration)
        self.history, self.wait_until = [], (window + 1) * self.duration
        ident = f"{self.scope}-{request.auth.pk}"
        with self._lock:
            tally = self._tallies.get(ident)
            if tally is None or tally[0] != window:
                if len(self._tallies) > 4096:
                    self._tallies.clear()
                tally = self._tallies[ident] = [window, 0, 0]
            tally[1] += 1
            unsent, shared = tally[1], tally[2]
            if unsent < self._BATCH and shared + self._NEAR < self.num_requests:
                return shared + unsent <= self.num_requests
            tally[1] = 0
        count = self._tell(f"throttle_{ident}_{window}", unsent)
        if count is None:  # the cache is down
            return True
        with self._lock:
            tally[2] = max(tally[2], count)
        return count <= self.num_requests

    def _tell(self, key: str, scans: int) -> int | None:
        try:
            return self.cache.incr(key, scans)
        except ValueError:  # the window's first word
            self.cache.add(key, 0, self.duration + 1)
            return self.cache.incr(key, scans)

    def wait(self) -> float | None:
        if not hasattr(self, "wait_until"):
            return super().wait()
        return max(self.wait_until - self.timer(), 0)


def _expires_at(credential: str | None) -> dt.datetime | None:
    if credential is None:
        return None
    return dt.datetime.fromtimestamp(codec.decode(credential)[0].expires_at, tz=dt.UTC)


def _my_pass(request) -> Pass:
    pass_obj = current_pass(request.user)
    if pass_obj is None:
        raise NotFound(_("Vous n'avez pas de ch'tipass."))
    return pass_obj


class MyPassView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pass_credentials"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "windows",
                OpenApiTypes.INT,
                description=(
                    "Pre-load this many 30-second windows (at most 2880, one day) for offline use."
                ),
            )
        ],
        responses=s.MyPassSerializer,
    )
    def get(self, request):
        pass_obj = _my_pass(request)
        now = timezone.now()
        try:
            windows = int(request.query_params.get("windows", "0") or 0)
        except ValueError:
            raise ValidationError(
                {"windows": [_("Nombre entier attendu.")]}, code="invalid"
            ) from None
        if windows < 0:
            raise ValidationError({"windows": [_("Nombre positif attendu.")]}, code="invalid")
        usable = pass_obj.status == Pass.Status.ACTIVE
        credentials = (
            credential_rotating(pass_obj, now=now, windows=max(windows, 1)) if usable else []
        )
        left = allowance_left(pass_obj)
        counter, credential = credentials[0] if credentials else (None, None)
        data = {
            "id": pass_obj.pk,
            "state": pass_obj.status,
            "network": pass_obj.network.slug,
            "home_space": pass_obj.membership.space.slug,
            "credential": credential,
            "counter": counter,
            "expires_at": _expires_at(credential),
            "server_time": now,
            "window_seconds": 30,
            "allowance": {"network_left": left.network_left, "per_host_left": left.per_host_left},
        }
        if windows:
            data["upcoming"] = [{"counter": c, "credential": t} for c, t in credentials]
        return Response(s.MyPassSerializer(data).data)


class MyPassQRView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "pass_credentials"
    image_format = "svg"
    static = False

    @extend_schema(
        responses={
            (200, "image/svg+xml"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
        }
    )
    def get(self, request):
        pass_obj = _my_pass(request)
        if pass_obj.status != Pass.Status.ACTIVE:
            raise PermissionDenied(
                _("Ch'tipass %(state)s.") % {"state": pass_obj.get_status_display()}
            )
        text = credential_static(pass_obj) if self.static else credential_rotating(pass_obj)[0][1]
        if self.image_format == "png":
            return HttpResponse(
                qr_png(text), content_type="image/png", headers={"Cache-Control": "no-store"}
            )
        return HttpResponse(
            qr_svg(text), content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )


def _scan_request(request, item: dict, *, offline: bool) -> ScanRequest:
    return ScanRequest(
        host=request.auth.space,
        credential=item["credential"],
        scanned_at=item.get("scanned_at"),
        nonce=item.get("nonce"),
        offline=offline,
        device_accepted=item.get("device_decision", "accepted") == "accepted",
        partner_key=request.auth,
    )


class ScanView(generics.ListAPIView):
    """POST: validate a credential at the key's own space. GET: that space's recent scans."""

    permission_classes = [IsPartnerKey]
    throttle_classes = [PartnerThrottle]
    throttle_scope = "scan"
    serializer_class = s.ScanSerializer

    def get_queryset(self) -> QuerySet[Scan]:
        if getattr(self, "swagger_fake_view", False):
            return Scan.objects.none()
        return Scan.objects.filter(host=self.request.auth.space_id).select_related("host")

    @extend_schema(request=s.ScanRequestSerializer, responses=s.ScanResultSerializer)
    def post(self, request):
        data = s.ScanRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(scan_record(_scan_request(request, data.validated_data, offline=False)))


class ScanBatchView(APIView):
    """Scans made offline, uploaded later: idempotent by nonce, in order."""

    permission_classes = [IsPartnerKey]
    throttle_classes = [PartnerThrottle]
    throttle_scope = "scan"

    @extend_schema(request=s.BatchRequestSerializer, responses=s.BatchResultSerializer)
    def post(self, request):
        data = s.BatchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        requests = [
            _scan_request(request, item, offline=True) for item in data.validated_data["scans"]
        ]
        return Response({"results": scan_batch(requests)})


def _networks_of(request) -> QuerySet[Network]:
    if isinstance(request.auth, PartnerKey):
        return Network.objects.filter(members__space_id=request.auth.space_id)
    if request.user.is_authenticated:
        return Network.objects.filter(members__space_id__in=co_managed_space_ids(request.user))
    return Network.objects.none()


class NetworkAccess(IsAuthenticated):
    """Partner keys, and co-managers of a network space."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PartnerKey) or (
            super().has_permission(request, view) and bool(co_managed_space_ids(request.user))
        )


class NetworkKeysView(APIView):
    permission_classes = [NetworkAccess]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        keys = published_keys(timezone.now())
        return Response(
            {
                "algorithm": "Ed25519",
                "format": "CP1",
                "keys": [
                    {
                        "kid": key.kid,
                        "public_key": key.public_key,
                        "not_before": key.not_before,
                        "sign_until": key.sign_until,
                        "verify_until": key.verify_until,
                        "status": key.status,
                    }
                    for key in keys
                ],
                "spaces": list(
                    NetworkSpace.objects.filter(network__in=_networks_of(request)).values(
                        "space_id", "space__slug", "space__name", "network__slug"
                    )
                ),
            }
        )


VERSION_TEXT = re.compile(r"[0-9]{1,18}")  # a revocation list version, as the query gives it


class RevocationListView(APIView):
    permission_classes = [NetworkAccess]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.INT, description="Last version the scanner has."
            ),
            OpenApiParameter("network", OpenApiTypes.STR),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        networks = _networks_of(request)
        slug = request.query_params.get("network")
        network = (networks.filter(slug=slug) if slug else networks).order_by("id").first()
        if network is None:
            raise NotFound(_("Aucun réseau pour ce lecteur."))
        since = request.query_params.get("since")
        # ASCII digits: "²".isdigit() is true, yet int("²") fails.
        if since not in (None, "") and not VERSION_TEXT.fullmatch(since):
            raise ValidationError({"since": [_("Nombre entier attendu.")]}, code="invalid")
        return Response(revocation_list(network, since=int(since) if since else None))


class SpaceScopedMixin:
    """Views under /spaces/{slug}/… for that space's co-managers only (others get 404)."""

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no real request
            return self.serializer_class.Meta.model.objects.none()
        return self.space_queryset(self.space())

    def space(self) -> Space:
        if not hasattr(self, "_space"):
            space = get_object_or_404(Space, slug=self.kwargs["slug"])
            if not co_manages(self.request, space):
                raise NotFound()
            self._space = space
        return self._space


class PartnerKeyViewSet(
    SpaceScopedMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.PartnerKeySerializer
    pagination_class = None
    # Keys are named by their public prefix: their pk embeds the stored hash.
    lookup_field = "prefix"

    def space_queryset(self, space: Space) -> QuerySet[PartnerKey]:
        return PartnerKey.objects.filter(space=space).order_by("-created")

    @extend_schema(
        request=s.PartnerKeyCreateSerializer, responses={201: s.PartnerKeyCreatedSerializer}
    )
    def create(self, request, slug=None):
        data = s.PartnerKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner_key, key = partner_key_create(
            space=self.space(), name=data.validated_data["name"], actor=request.user
        )
        return Response(
            {
                "id": partner_key.prefix,
                "name": partner_key.name,
                "prefix": partner_key.prefix,
                "key": key,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={204: OpenApiResponse(description="Revoked.")})
    def destroy(self, request, slug=None, prefix=None):
        partner_key_revoke(partner_key=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SpacePassViewSet(
    SpaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Passes of the members whose home is this space: list, suspend, reinstate, revoke."""

    serializer_class = s.PassSerializer

    def space_queryset(self, space: Space) -> QuerySet[Pass]:
        return (
            Pass.objects.filter(membership__space=space)
            .select_related("member", "network", "membership__space")
            .order_by("id")
        )

    def _act(self, request, service):
        data = s.PassActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = service(
            pass_obj=self.get_object(), actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(s.PassSerializer(self.get_queryset().get(pk=updated.pk)).data)

    @extend_schema(request=s.PassActionSerializer, responses=s.PassSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, slug=None, pk=None):
        return self._act(request, pass_suspend)

    @extend_schema(request=s.PassActionSerializer, responses=s.PassSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, slug=None, pk=None):
        return self._act(request, pass_reinstate)

    @extend_schema(request=s.PassActionSerializer, responses=s.PassSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, slug=None, pk=None):
        return self._act(request, pass_revoke)


class SpaceScanViewSet(SpaceScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Scans made at this space."""

    serializer_class = s.ScanSerializer

    def space_queryset(self, space: Space) -> QuerySet[Scan]:
        return Scan.objects.filter(host=space).select_related("host")


class SpaceVisitViewSet(SpaceScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Visits hosted by this space and visits its members made elsewhere."""

    serializer_class = s.VisitSerializer

    def space_queryset(self, space: Space) -> QuerySet[Visit]:
        return (
            Visit.objects.filter(Q(host=space) | Q(home=space))
            .select_related("host", "home", "member")
            .order_by("-date", "-id")
        )
