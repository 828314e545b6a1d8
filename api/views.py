"""API views: thin; they parse, call a service or selector, and serialize."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django import forms
from django.contrib.auth import authenticate, logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from coworking.models import Member, MemberToken
from coworking.tokens import token_issue, token_revoke
from passes.selectors import allowance_left, current_pass
from spaces.availability import space_availability
from spaces.calendar import member_calendar
from spaces.models import Booking, BookingSeries, Closure, Resource, Space
from spaces.selectors import bookings_visible_to, co_managed_space_ids
from spaces.services import (
    booking_cancel,
    booking_create,
    booking_series_cancel,
    booking_series_create,
)

from . import serializers as s
from .errors import error_response
from .renderers import FastJSONRenderer


class TokenView(APIView):
    """Exchange an email and a password for a new API token (one per login)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    # No throttle of its own: `authenticate` counts the attempts of a client address and the
    # failures of an account, whatever the login path (coworking/lockout.py).

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenSerializer})
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The HttpRequest, not DRF's wrapper, so that django-axes can mark a lockout on it.
        member = authenticate(
            request._request,
            username=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        if member is None:
            return error_response(
                "invalid_credentials",
                _("E-mail ou mot de passe incorrect."),
                status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        # A token is a login: last_login is updated and the failed-attempts count resets.
        user_logged_in.send(sender=member.__class__, request=request._request, user=member)
        token, key = token_issue(member=member)
        return Response(s.TokenSerializer({"token": key, "expires_at": token.expires_at}).data)


class LogoutView(APIView):
    """The caller's token stops working (their other tokens go on); a session ends."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Logged out.")})
    def post(self, request):
        if isinstance(request.auth, MemberToken):
            token_revoke(request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        member = Member.objects.prefetch_related("memberships__space", "memberships__plan").get(
            pk=request.user.pk
        )
        pass_obj = current_pass(member)
        context = {
            "request": request,
            "pass": pass_obj,
            "allowance": allowance_left(pass_obj) if pass_obj else None,
        }
        return Response(s.MeSerializer(member, context=context).data)


class SpaceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Space.objects.all()

    def get_queryset(self) -> QuerySet[Space]:
        if self.action in {"list", "retrieve"}:
            return Space.objects.prefetch_related("network_links__network")
        return Space.objects.all()

    lookup_field = "slug"
    permission_classes = [AllowAny]
    pagination_class = None

    def get_serializer_class(self):
        return s.SpaceDetailSerializer if self.action == "retrieve" else s.SpaceSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve":
            space_slug = self.kwargs["slug"]
            context["upcoming_closures"] = Closure.objects.filter(
                space__slug=space_slug, ends_on__gte=timezone.localdate()
            ).order_by("starts_on")[:20]
        return context

    @extend_schema(responses=s.ResourceSerializer(many=True))
    @action(detail=True, permission_classes=[IsAuthenticated])
    def resources(self, request, slug=None):
        space = self.get_object()
        resources = (
            Resource.objects.filter(space=space, is_active=True)
            .select_related("space", "training")
            .order_by("kind", "name")
        )
        return Response(s.ResourceSerializer(resources, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    # A busy day is half a megabyte of JSON: orjson writes it in a fraction of the time.
    @action(
        detail=True,
        permission_classes=[IsAuthenticated],
        renderer_classes=[FastJSONRenderer, BrowsableAPIRenderer],
    )
    def availability(self, request, slug=None):
        space = self.get_object()  # an unknown space is a 404 whatever the query says
        query = s.AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["date"]
        return Response(
            {
                "space": space.slug,
                "date": day.isoformat(),
                "timezone": space.timezone,
                "resources": space_availability(space, day, member=request.user),
            }
        )


class IdFilter(filters.NumberFilter):
    """A row id: a whole number within the database's 64-bit range. Beyond it the lookup would
    overflow SQLite's integers (a 500); it is a 400 instead."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=-(2**63), max_value=2**63 - 1, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, sent to the database in UTC: an offset PostgreSQL does not take
    (+21:00), or a moment that leaves the calendar once in UTC (year 1 at +05:00, which
    SQLite's adapter overflows on), is a 400 here rather than a 500 there."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class BookingFilter(filters.FilterSet):
    space = filters.CharFilter(field_name="resource__space__slug")
    # Plain ids, not choices: a choice list is drawn from every row of the table, so the
    # browsable API's filter form would show everyone's series (with member names) to anyone.
    resource = IdFilter(field_name="resource")
    series = IdFilter(field_name="series")
    start_after = UtcDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = UtcDateTimeFilter(field_name="start", lookup_expr="lt")
    mine = filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = Booking
        fields = ["status"]

    def filter_mine(self, queryset: QuerySet[Booking], name: str, value: bool):
        return queryset.filter(member=self.request.user) if value else queryset


class BookingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A member's own bookings, plus every booking of the spaces they co-manage."""

    serializer_class = s.BookingSerializer
    filterset_class = BookingFilter
    throttle_scope = "booking_write"

    def get_throttles(self):
        if self.request.method in {"POST", "DELETE"}:
            return [ScopedRateThrottle()]
        return []

    def get_queryset(self) -> QuerySet[Booking]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Booking.objects.none()
        return (
            bookings_visible_to(cast(Member, self.request.user))  # signed in: IsAuthenticated
            .select_related("resource__space", "member")
            .order_by("start", "id")
        )

    @extend_schema(request=s.BookingRequestSerializer, responses={201: s.BookingSerializer})
    def create(self, request):
        data = s.BookingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        booking = booking_create(
            member=values.get("member") or request.user,
            resource=values["resource"],
            start=values["start"],
            end=values["end"],
            day=values["date"],
            period=values["period"],
            note=values["note"],
            actor=request.user,
        )
        # Answered from memory: the resource (with its space) and the member are already loaded,
        # and whoever may book may see the booking, so reading it back would add two queries.
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: OpenApiResponse(description="Cancelled.")})
    def destroy(self, request, pk=None):
        booking_cancel(booking=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.RecurringBookingRequestSerializer, responses={201: s.BookingSeriesSerializer}
    )
    @action(detail=False, methods=["post"])
    def recurring(self, request):
        data = s.RecurringBookingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        series = booking_series_create(
            member=values.get("member") or request.user,
            resource=values["resource"],
            start=values["start"],
            end=values["end"],
            day=values["date"],
            period=values["period"],
            until=values["until"],
            note=values["note"],
            actor=request.user,
        )
        return Response(s.BookingSeriesSerializer(series).data, status=status.HTTP_201_CREATED)


class BookingSeriesViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.BookingSeriesSerializer

    def get_queryset(self) -> QuerySet[BookingSeries]:
        from django.db.models import Q

        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return BookingSeries.objects.none()
        spaces = co_managed_space_ids(cast(Member, self.request.user))  # IsAuthenticated
        return BookingSeries.objects.filter(
            Q(member=self.request.user) | Q(resource__space_id__in=spaces)
        ).select_related("resource__space")

    @extend_schema(
        request=s.SeriesCancelSerializer, responses={200: s.BookingSerializer(many=True)}
    )
    # The cancelled occurrences come back as a plain list, not a page.
    @action(detail=True, methods=["post"], pagination_class=None)
    def cancel(self, request, pk=None):
        data = s.SeriesCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = booking_series_cancel(
            series=self.get_object(),
            actor=request.user,
            from_date=data.validated_data.get("from_date"),
            until=data.validated_data.get("until"),
        )
        return Response(s.BookingSerializer(cancelled, many=True).data)


def calendar_feed(request, token: str) -> HttpResponse:
    """The member's bookings as iCal, at a secret URL that calendar apps can poll."""
    member = get_object_or_404(Member, calendar_token=token, is_active=True)
    response = HttpResponse(member_calendar(member), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
