"""Serializers: shapes only; rules live in the services."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coworking.models import Member
from spaces.models import Booking, BookingSeries, Closure, Membership, Resource, Space
from spaces.rules import BookingError


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, write_only=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    # Fixed: the token stops working then (TOKEN_TTL after the login), and one logs in again.
    expires_at = serializers.DateTimeField()


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ["starts_on", "ends_on", "reason", "resource"]
        read_only_fields = fields


class NetworkRulesSerializer(serializers.Serializer):
    slug = serializers.CharField(source="network.slug")
    name = serializers.CharField(source="network.name")
    monthly_visits = serializers.IntegerField(source="network.monthly_visits")
    monthly_visits_per_host = serializers.IntegerField(source="network.monthly_visits_per_host")
    day_rate = serializers.DecimalField(source="network.day_rate", max_digits=7, decimal_places=2)
    daily_visitor_capacity = serializers.IntegerField()


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "13:00:00"}
)
class WallClockTimeField(serializers.TimeField):
    """A time of day in the space's own timezone, without UTC offset: not the OpenAPI `time`
    format, which is RFC 3339's `full-time` and requires one."""


class SpaceSerializer(serializers.ModelSerializer):
    half_day_split = WallClockTimeField(
        read_only=True,
        label=Space._meta.get_field("half_day_split").verbose_name,
        help_text=Space._meta.get_field("half_day_split").help_text,
    )
    # Read-only model fields lose `blank`: without it, the schema would refuse the "" that a
    # space without a website or contact e-mail returns.
    email = serializers.EmailField(read_only=True, allow_blank=True)
    website = serializers.URLField(read_only=True, allow_blank=True)
    booking_rules = serializers.SerializerMethodField()
    networks = NetworkRulesSerializer(source="network_links", many=True, read_only=True)

    class Meta:
        model = Space
        fields = [
            "slug",
            "name",
            "address",
            "email",
            "website",
            "timezone",
            "opening_hours",
            "half_day_split",
            "booking_rules",
            "networks",
        ]
        # Model serializers describe what comes back; clients write through request serializers.
        read_only_fields = fields

    def get_booking_rules(self, space: Space) -> dict[str, int]:
        return {
            "min_booking_minutes": space.min_booking_minutes,
            "max_booking_minutes": space.max_booking_minutes,
            "booking_horizon_days": space.booking_horizon_days,
            "cancellation_cutoff_minutes": space.cancellation_cutoff_minutes,
            "max_active_bookings": space.max_active_bookings,
        }


class SpaceDetailSerializer(SpaceSerializer):
    upcoming_closures = serializers.SerializerMethodField()

    class Meta(SpaceSerializer.Meta):
        fields = [*SpaceSerializer.Meta.fields, "upcoming_closures"]

    def get_upcoming_closures(self, space: Space) -> list[dict]:
        closures = self.context.get("upcoming_closures", [])
        return list(ClosureSerializer(closures, many=True).data)


class ResourceSerializer(serializers.ModelSerializer):
    # "" for rooms and machines (read-only model fields lose `blank`, hence the declaration).
    desk_type = serializers.ChoiceField(
        choices=Resource.DeskType.choices, read_only=True, allow_blank=True
    )
    training = serializers.CharField(
        source="training.name", default=None, read_only=True, allow_null=True
    )
    rules = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = [
            "id",
            "name",
            "kind",
            "desk_type",
            "capacity",
            "description",
            "training",
            "members_only",
            "opening_hours",
            "rules",
        ]
        read_only_fields = fields

    def get_rules(self, resource: Resource) -> dict:
        from spaces.rules import SLOT_MINUTES, BookingRules

        rules = BookingRules.for_resource(resource)
        return {
            "booking_unit": "half_day" if rules.by_period else f"{SLOT_MINUTES}_minutes",
            "min_minutes": rules.min_minutes,
            "max_minutes": rules.max_minutes,
            "horizon_days": rules.horizon_days,
            "cancellation_cutoff_minutes": rules.cancellation_cutoff_minutes,
            "max_active_bookings": rules.max_active_bookings,
        }


class MembershipSerializer(serializers.ModelSerializer):
    space: serializers.SlugRelatedField[Space] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    space_name = serializers.CharField(source="space.name", read_only=True)
    plan = serializers.CharField(source="plan.name", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "space", "space_name", "plan", "status", "role", "starts_on", "ends_on"]
        read_only_fields = fields


class PassSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    network = serializers.CharField()
    home_space = serializers.CharField()


class MeAllowanceSerializer(serializers.Serializer):
    network_left = serializers.IntegerField()
    per_host_left = serializers.DictField(child=serializers.IntegerField())


class MeSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)
    calendar_url = serializers.SerializerMethodField()
    pass_summary = serializers.SerializerMethodField(method_name="get_pass")
    allowance = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "language",
            "memberships",
            "calendar_url",
            "pass_summary",
            "allowance",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        fields["pass"] = fields.pop("pass_summary")  # "pass" is a Python keyword
        return fields

    @extend_schema_field(PassSummarySerializer(allow_null=True))
    def get_pass(self, member: Member) -> dict | None:
        pass_obj = self.context.get("pass")
        if pass_obj is None:
            return None
        return {
            "id": pass_obj.pk,
            "state": pass_obj.status,
            "network": pass_obj.network.slug,
            "home_space": pass_obj.membership.space.slug,
        }

    @extend_schema_field(MeAllowanceSerializer(allow_null=True))
    def get_allowance(self, member: Member) -> dict | None:
        left = self.context.get("allowance")
        if left is None:
            return None
        return {"network_left": left.network_left, "per_host_left": left.per_host_left}

    def get_calendar_url(self, member: Member) -> str:
        path = reverse("calendar-feed", kwargs={"token": member.calendar_token})
        return self.context["request"].build_absolute_uri(path)


class BookingSerializer(serializers.ModelSerializer):
    resource_name = serializers.CharField(source="resource.name", read_only=True)
    space = serializers.CharField(source="resource.space.slug", read_only=True)
    member_name = serializers.CharField(source="member.first_name", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "resource",
            "resource_name",
            "space",
            "member",
            "member_name",
            "start",
            "end",
            "status",
            "note",
            "series",
            "created_at",
            "cancelled_at",
        ]
        read_only_fields = fields


PERIODS = [("day", _("journée")), ("morning", _("matin")), ("afternoon", _("après-midi"))]

# The ids of the database: positive and within 64 bits. Longer digit strings than any id are
# not read as numbers at all (int() of thousands of digits is slow, then refused).
ID_RANGE = range(1, 2**63)
ID_TEXT = re.compile(r"[0-9]{1,64}")


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A row id: a JSON integer, or its decimal digits as text (form posts). DRF's own field
    hands any value to the database, which reads 1.5 as row 1, true as row 1, and fails on
    1e309 (a 500): here anything but a whole number is a 400 `incorrect_type`, and a whole
    number that no row can have names nothing (`does_not_exist`)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and ID_TEXT.fullmatch(data):
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if data not in ID_RANGE:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class BookingTimeField(serializers.DateTimeField):
    """A moment with a UTC offset (an instant), or without one: a wall-clock time of the
    resource's space, which the booking service reads (it knows the space's daylight-saving
    nights; the server's own timezone has no say)."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            return value
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            self.fail("overflow")


# An id that names nobody: answered, once every field is valid, as an id of somebody one may
# not book for.
UNKNOWN_MEMBER = object()


class BookedMemberField(StrictPrimaryKeyRelatedField):
    """The member a booking is for. An id that names nobody gets the answer an id of somebody
    else's gets (403 `forbidden`, after the same field errors), so that booking cannot be used
    to find which ids exist."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if any(getattr(detail, "code", None) == "does_not_exist" for detail in error.detail):
                return UNKNOWN_MEMBER
            raise


class BookingRequestSerializer(serializers.Serializer):
    """Either `start` + `end`, or (desks) `date` + `period`. The booking service resolves them
    (after checking who may book for whom)."""

    resource = StrictPrimaryKeyRelatedField(queryset=Resource.objects.select_related("space"))
    start = BookingTimeField(
        required=False,
        help_text=_(
            "Avec un décalage UTC, un instant ; sans, l'heure locale du lieu. "
            "Une heure qui n'existe pas ce jour-là (passage à l'heure d'été) est refusée "
            "(nonexistent_local_time)."
        ),
    )
    end = BookingTimeField(required=False)
    date = serializers.DateField(required=False)
    period = serializers.ChoiceField(choices=PERIODS, required=False)
    member = BookedMemberField(
        queryset=Member.objects.all(),
        required=False,
        help_text=_("Co-gérant·es : réserver pour un membre de leur lieu."),
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, data: dict) -> dict:
        if data.get("date") and data.get("period"):
            data["start"] = data["end"] = None
        elif data.get("start") and data.get("end"):
            data["date"] = data["period"] = None
        else:
            raise serializers.ValidationError(
                _("Indiquez start et end, ou date et period."), code="invalid"
            )
        # Last, where the booking service would first check who may book for whom.
        if data.get("member") is UNKNOWN_MEMBER:
            raise BookingError("forbidden")
        return data


class RecurringBookingRequestSerializer(BookingRequestSerializer):
    until = serializers.DateField(help_text=_("Dernier jour possible de la série (inclus)."))


class BookingSeriesSerializer(serializers.ModelSerializer):
    bookings = serializers.SerializerMethodField()

    class Meta:
        model = BookingSeries
        fields = ["id", "resource", "member", "until", "created_at", "bookings"]
        read_only_fields = fields

    def get_bookings(self, series: BookingSeries) -> list[dict]:
        bookings = series.bookings.select_related("resource__space", "member").order_by("start")
        return list(BookingSerializer(bookings, many=True).data)


class SeriesCancelSerializer(serializers.Serializer):
    from_date = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class AvailabilityQuerySerializer(serializers.Serializer):
    # Far enough for any calendar, near enough that the day's bounds stay inside `datetime`.
    FIRST_DAY = dt.date(1970, 1, 1)
    LAST_DAY = dt.date(9998, 12, 31)

    date = serializers.DateField()

    def validate_date(self, value: dt.date) -> dt.date:
        if not self.FIRST_DAY <= value <= self.LAST_DAY:
            raise serializers.ValidationError(
                _("Date hors de la plage acceptée (%(first)s – %(last)s).")
                % {"first": self.FIRST_DAY.isoformat(), "last": self.LAST_DAY.isoformat()},
                code="invalid",
            )
        return value
