"""Usage review for co-managers: a space's monthly figures and the network settlement, as JSON
or CSV (`?format=csv`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from coworking.months import MONTH_PATTERN, month_parse
from passes.models import Network
from passes.settlement import network_settlement
from reports.exports import settlement_rows, usage_rows
from reports.usage import space_usage
from spaces.models import Space
from spaces.selectors import co_managed_space_ids

from .permissions import co_manages
from .renderers import CSVRenderer

MONTH_EXPECTED = gettext_lazy("Mois attendu au format AAAA-MM, de 2000-01 à 2100-12.")


class MonthQuerySerializer(serializers.Serializer):
    month = serializers.CharField(error_messages={"blank": MONTH_EXPECTED})

    def validate_month(self, value: str) -> dt.date:
        month = month_parse(value)
        if month is None:
            raise serializers.ValidationError(MONTH_EXPECTED, code="invalid")
        return month


class IsCoManager(IsAuthenticated):
    """A member who co-manages at least one space (partner keys are not members)."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and bool(co_managed_space_ids(request.user))


def _month(request) -> dt.date:
    query = MonthQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["month"]


def _with_decimal_strings(data: Any) -> Any:
    """Amounts as "45.00", as DRF writes decimal fields, rather than as floats."""
    if isinstance(data, Decimal):
        return str(data)
    if isinstance(data, dict):
        return {key: _with_decimal_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_with_decimal_strings(value) for value in data]
    return data


class CSVExportView(APIView):
    """JSON by default, CSV rows with `?format=csv`; errors are always the JSON error shape."""

    # api_settings holds the imported classes; its stub types them as the setting's strings.
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]  # type: ignore[list-item]

    def respond(self, data: dict[str, Any], rows: list[list[Any]], filename: str) -> Response:
        if isinstance(self.request.accepted_renderer, CSVRenderer):
            return Response(
                rows, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
            )
        return Response(_with_decimal_strings(data))

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


MONTH = OpenApiParameter(
    "month",
    OpenApiTypes.STR,
    required=True,
    pattern=f"^{MONTH_PATTERN.pattern}$",
    description="YYYY-MM, from 2000-01 to 2100-12",
)
FORMAT = OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])
JSON_OR_CSV = {
    (200, "application/json"): OpenApiTypes.OBJECT,
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="A CSV attachment."),
}


class SpaceUsageView(CSVExportView):
    """A space's month for its co-managers: bookings, occupancy, visits, balances."""

    @extend_schema(
        parameters=[
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH),
            MONTH,
            FORMAT,
        ],
        responses=JSON_OR_CSV,
    )
    def get(self, request, slug: str):
        space = get_object_or_404(Space, slug=slug)
        if not co_manages(request, space):
            raise NotFound()
        usage = space_usage(space, _month(request))
        return self.respond(usage, usage_rows(usage), f"usage-{space.slug}-{usage['month']}.csv")


class NetworkSettlementView(CSVExportView):
    """Who owes whom in a network that a space of the co-manager belongs to."""

    permission_classes = [IsCoManager]

    @extend_schema(
        parameters=[
            MONTH,
            OpenApiParameter(
                "network",
                OpenApiTypes.STR,
                description="Slug; by default the first network of a space you co-manage.",
            ),
            FORMAT,
        ],
        responses=JSON_OR_CSV,
    )
    def get(self, request):
        networks = (
            Network.objects.filter(members__space_id__in=co_managed_space_ids(request.user))
            .distinct()
            .order_by("id")
        )
        slug = request.query_params.get("network")
        network = (networks.filter(slug=slug) if slug else networks).first()
        if network is None:
            raise NotFound(_("Aucun réseau pour vos lieux."))
        settlement = network_settlement(network, _month(request))
        return self.respond(
            settlement,
            settlement_rows(settlement),
            f"settlement-{network.slug}-{settlement['month']}.csv",
        )
