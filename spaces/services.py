"""Writes on bookings. Every path (API, admin, shell, task) goes through these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coworking.audit import audit_record
from coworking.models import Member
from coworking.months import month_first, month_following

from .models import Booking, BookingSeries, Membership, Resource, TrainingRecord
from .notifications import booking_notify, series_notify
from .rules import SLOT_MINUTES, BookingError, BookingRules
from .schedule import desk_periods, is_closed_on, open_intervals
from .selectors import current_membership, is_co_manager, may_book_for
from .wall_clock import NonexistentLocalTime, interval, wall_clock

MAX_OCCURRENCES = 52

# Apps that know about guests (the ch'tipass network) register a policy here: it answers whether
# `member`, who holds no membership at the resource's space, may book a resource open to guests
# over [start, end) (instants). It returns False for a member it does not know, and raises a
# BookingError for one it knows but refuses (e.g. `allowance_exhausted`).
GuestPolicy = Callable[[Member, Resource, dt.datetime, dt.datetime], bool]
guest_policies: list[GuestPolicy] = []


def _instants(
    resource: Resource,
    start: dt.datetime | None,
    end: dt.datetime | None,
    day: dt.date | None,
    period: str | None,
) -> tuple[dt.datetime, dt.datetime]:
    """What was asked, as instants (UTC): a desk period of `day`, or [start, end), whose naive
    ends (web form, admin, shell, an API time without offset) are wall-clock times of the space,
    read by `wall_clock.interval`."""
    try:
        if period is not None:
            if day is None:
                raise BookingError("invalid_interval")
            periods = desk_periods(resource, day)
            if period not in periods:
                raise BookingError("desk_period" if periods else "closed")
            return periods[period]
        if start is None or end is None:
            raise BookingError("invalid_interval")
        return interval(start, end, resource.space.tz)
    except NonexistentLocalTime as error:
        raise BookingError(
            "nonexistent_local_time", local_time=error.moment.replace(tzinfo=None).isoformat()
        ) from None
    except OverflowError:
        # Within hours of the first or last day `datetime` knows: beyond any rule either way.
        asked = day or (start or end).date()  # type: ignore[union-attr]
        raise BookingError("in_past" if asked.year < 2000 else "too_far_ahead") from None


def _is_overlap_violation(error: IntegrityError) -> bool:
    text = str(error)
    return "booking_no_overlap" in text or "booking_conflict" in text


def booking_instants(
    *, resource: Resource, start: dt.datetime, end: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) as the instants (UTC) a booking of `resource` would hold: naive ends are
    wall-clock times of its space (`nonexistent_local_time` if the clocks skip them)."""
    return _instants(resource, start, end, None, None)


def _check_time(resource: Resource, rules: BookingRules, start, end, now) -> None:
    tz = resource.space.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    if end <= start:
        raise BookingError("invalid_interval")
    # 1. Not in the past (a desk may be taken for the rest of a day that has begun).
    current_slot = now.replace(second=0, microsecond=0) - dt.timedelta(
        minutes=now.astimezone(tz).minute % SLOT_MINUTES
    )
    if end <= now or (not rules.by_period and start < current_slot):
        raise BookingError("in_past")
    # 2. Not beyond the horizon, counted in local days.
    if day > now.astimezone(tz).date() + dt.timedelta(days=rules.horizon_days):
        raise BookingError("too_far_ahead", horizon_days=rules.horizon_days)
    # 3. Open that day at all.
    intervals = open_intervals(resource, day)
    if not intervals or is_closed_on(resource, day):
        raise BookingError("closed", date=day.isoformat())
    # 4. The shape: desks by day or half-day, the rest by 15-minute slots inside opening hours.
    if rules.by_period:
        if (start, end) not in desk_periods(resource, day).values():
            raise BookingError("desk_period")
        return
    for moment in (local_start, local_end):
        if moment.minute % SLOT_MINUTES or moment.second or moment.microsecond:
            raise BookingError("not_on_slot")
    # An end at midnight closes the day (a room open around the clock): the day of its last
    # moment is the one that counts.
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    if last_day != day or not any(a <= start and end <= b for a, b in intervals):
        raise BookingError("outside_opening_hours")
    minutes = (end - start).total_seconds() / 60
    if minutes < rules.min_minutes:
        raise BookingError("too_short", min_minutes=rules.min_minutes)
    if minutes > rules.max_minutes:
        raise BookingError("too_long", max_minutes=rules.max_minutes)


def _check_member(member: Member, resource: Resource, rules: BookingRules, start, end, now) -> None:
    tz = resource.space.tz
    first_day = start.astimezone(tz).date()
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    membership = current_membership(member, resource.space)
    if membership is None or membership.status == Membership.Status.ENDED:
        if rules.members_only or not any(p(member, resource, start, end) for p in guest_policies):
            raise BookingError("members_only" if membership is None else "membership_inactive")
    elif membership.status != Membership.Status.ACTIVE:
        raise BookingError("membership_inactive")
    elif not (membership.is_active_on(first_day) and membership.is_active_on(last_day)):
        raise BookingError("outside_membership")

    if (
        rules.training_id
        and not TrainingRecord.objects.filter(training_id=rules.training_id, member=member)
        .exclude(expires_on__lt=first_day)
        .exists()
    ):
        raise BookingError("training_required", training=rules.training_id)

    if (
        resource.desk_type == Resource.DeskType.FIXED
        and resource.assigned_to_id
        and resource.assigned_to_id != member.pk
    ):
        raise BookingError("desk_assigned")

    same_kind = Booking.objects.filter(
        member=member,
        resource__space_id=resource.space_id,
        resource__kind=resource.kind,
        status=Booking.Status.CONFIRMED,
    )
    if same_kind.filter(end__gt=now).count() >= rules.max_active_bookings:
        raise BookingError("max_active_bookings", limit=rules.max_active_bookings)

    # Only desks count days against the plan: rooms and machines do not load it (one query).
    plan = membership.plan if rules.by_period and membership is not None else None
    if plan is not None and plan.desk_days_per_month is not None:
        month_start = dt.datetime.combine(month_first(first_day), dt.time(), tzinfo=tz)
        next_month = dt.datetime.combine(month_following(first_day), dt.time(), tzinfo=tz)
        days_used = {
            moment.astimezone(tz).date()
            for moment in same_kind.filter(
                start__gte=month_start, start__lt=next_month
            ).values_list("start", flat=True)
        }
        days_used.discard(first_day)
        if len(days_used) >= plan.desk_days_per_month:
            raise BookingError("plan_days_exhausted", limit=plan.desk_days_per_month)


def _lock_member(member: Member) -> None:
    """Serialize one member's bookings, so counted limits hold under concurrency.

    SQLite transactions are IMMEDIATE (one writer at a time) and need no row lock.
    """
    if connection.vendor != "sqlite":
        # NO KEY: scans and bookings that only reference the member are not blocked.
        Member.objects.select_for_update(no_key=True).filter(pk=member.pk).first()


def _lock_resource(resource: Resource) -> None:
    """Serialize the bookings of one resource (taken after the member's: always that order).

    Without it, requests for a slot already taken each INSERT a row that the exclusion
    constraint must then check against the others' uncommitted ones: they wait on one another
    and deadlock (measured: seconds per refusal on a contested room). With it, the SELECT for
    overlaps below is the answer, and the constraint stays the guard against any other writer.
    """
    if connection.vendor != "sqlite":
        Resource.objects.select_for_update(no_key=True).filter(pk=resource.pk).first()


def _overlaps(resource_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    return Booking.objects.filter(
        resource_id=resource_id, status=Booking.Status.CONFIRMED, start__lt=end, end__gt=start
    ).exists()


def _insert(booking: Booking) -> Booking:
    """Insert `booking`; an overlap is refused by the database, whoever wrote the other booking.

    The exclusion constraint (PostgreSQL) or the trigger (SQLite, whose writes are serialized by
    IMMEDIATE transactions) checks the overlap within the INSERT itself: the guard against any
    writer that skipped the service. Must run inside the caller's transaction: after a refused
    INSERT the caller's block is rolled back as the BookingError leaves it (no savepoint here).
    """
    try:
        booking.save(force_insert=True)
    except IntegrityError as error:
        if _is_overlap_violation(error):
            raise BookingError("booking_conflict") from error
        raise
    return booking


def booking_check(
    *,
    member: Member,
    resource: Resource,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    day: dt.date | None = None,
    period: str | None = None,
    actor: Member,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """Raise the first BookingError that booking [start, end) (or a desk `period` of `day`)
    would meet; nothing is written. Returns the instants it would book."""
    start, end = _check_rules(
        member=member,
        resource=resource,
        start=start,
        end=end,
        day=day,
        period=period,
        actor=actor,
        now=now,
    )
    if _overlaps(resource.pk, start, end):
        raise BookingError("booking_conflict")
    return start, end


def _check_may_book_for(actor: Member, member: Member, resource: Resource) -> None:
    """Who may book for whom: the first rule, so that no other answer tells anything about a
    member one may not book for (whether they exist, where they may book)."""
    if not may_book_for(actor, member, resource.space_id):
        raise BookingError("forbidden")


def _check_rules(
    *,
    member: Member,
    resource: Resource,
    start: dt.datetime | None,
    end: dt.datetime | None,
    day: dt.date | None,
    period: str | None,
    actor: Member,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """Every rule but the overlap, in the order of `booking_check`; the instants asked for."""
    _check_may_book_for(actor, member, resource)
    if not resource.is_active:
        raise BookingError("resource_unavailable")
    start, end = _instants(resource, start, end, day, period)
    rules = BookingRules.for_resource(resource)
    _check_time(resource, rules, start, end, now)
    _check_member(member, resource, rules, start, end, now)
    return start, end


def booking_create(
    *,
    member: Member,
    resource: Resource,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    day: dt.date | None = None,
    period: str | None = None,
    actor: Member | None = None,
    note: str = "",
    series: BookingSeries | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Book `resource` for `member` over [start, end), or a desk's `period` ("day", "morning",
    "afternoon") of `day`, after checking every rule. Naive times are wall-clock times of the
    space (`spaces/wall_clock.py` says how a daylight-saving night reads them)."""
    actor = actor or member
    now = now or timezone.now()
    with transaction.atomic():
        _lock_member(member)
        _lock_resource(resource)
        start, end = _check_rules(
            member=member,
            resource=resource,
            start=start,
            end=end,
            day=day,
            period=period,
            actor=actor,
            now=now,
        )
        # The last rule: under the resource lock, this read is the answer (the INSERT's
        # constraint stays the guard).
        if _overlaps(resource.pk, start, end):
            raise BookingError("booking_conflict")
        booking = _insert(
            Booking(
                resource=resource,
                member=member,
                start=start,
                end=end,
                note=note,
                series=series,
                created_by=actor,
            )
        )
        if series is None:  # a series sends one email for all its occurrences
            booking_notify(booking, "confirmed")
        if actor.pk != member.pk:
            audit_record(
                actor=actor,
                action="booking.create_for_member",
                target=booking,
                space_id=resource.space_id,
                detail={"member": member.pk},
            )
    return booking


def booking_series_create(
    *,
    member: Member,
    resource: Resource,
    until: dt.date,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    day: dt.date | None = None,
    period: str | None = None,
    actor: Member | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> BookingSeries:
    """Book the same wall-clock slot (or desk period) every week until `until`: every
    occurrence or none. Each occurrence reads its wall-clock times on its own day, as
    `booking_create` does."""
    actor = actor or member
    # Who may book for whom does not depend on the occurrence: said once, for the series.
    _check_may_book_for(actor, member, resource)
    tz = resource.space.tz
    first: dict[str, Any] = {"start": start, "end": end, "day": day, "period": period}
    if period is not None:
        if day is None:
            raise BookingError("invalid_interval")
        first_day = day
    else:
        try:
            first_start, first_end = _instants(resource, start, end, None, None)
        except BookingError as error:
            if start is None:
                raise
            raise BookingError(
                error.code,
                error.message,
                occurrence=wall_clock(start, tz).date().isoformat(),
                **error.fields,
            ) from error
        if first_end <= first_start:
            raise BookingError("invalid_interval")
        # The first occurrence as asked (an offset may choose the pass of a repeated hour),
        # the others at the same wall-clock times, read on their own day.
        assert start is not None and end is not None  # or _instants refused them above
        wall_start, wall_end = wall_clock(start, tz), wall_clock(end, tz)
        first_day = wall_start.date()
    if until < first_day:
        raise BookingError("invalid_interval")
    weeks = (until - first_day).days // 7 + 1
    if weeks > MAX_OCCURRENCES:
        raise BookingError("too_many_occurrences", limit=MAX_OCCURRENCES)
    with transaction.atomic():
        series = BookingSeries.objects.create(member=member, resource=resource, until=until)
        created = []
        for week in range(weeks):
            shift = dt.timedelta(weeks=week)
            occurrence_day = first_day + shift
            if week == 0:
                asked = first
            elif period is not None:
                asked = {"day": occurrence_day, "period": period}
            else:
                asked = {"start": wall_start + shift, "end": wall_end + shift}
            try:
                booking = booking_create(
                    member=member,
                    resource=resource,
                    **asked,
                    actor=actor,
                    note=note,
                    series=series,
                    now=now,
                )
            except BookingError as error:
                raise BookingError(
                    error.code, error.message, occurrence=occurrence_day.isoformat(), **error.fields
                ) from error
            created.append(booking)
        series_notify(created, "confirmed")
    return series


def _may_manage(actor: Member, booking: Booking) -> bool:
    return is_co_manager(actor, booking.resource.space_id)


def _check_cancellable(booking: Booking, *, manager: bool, now: dt.datetime) -> None:
    if booking.is_cancelled:
        raise BookingError("already_cancelled")
    if booking.end <= now or (not manager and booking.start <= now):
        raise BookingError("booking_started")
    if not manager:
        cutoff = BookingRules.for_resource(booking.resource).cancellation_cutoff_minutes
        if now > booking.start - dt.timedelta(minutes=cutoff):
            raise BookingError("cancellation_cutoff_passed", cutoff_minutes=cutoff)


def booking_cancel(*, booking: Booking, actor: Member, now: dt.datetime | None = None) -> Booking:
    """Cancel a booking; members before the cutoff, co-managers of its space at any time."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("resource__space")
            .get(pk=booking.pk)
        )
        manager = _may_manage(actor, booking)
        if not manager and booking.member_id != actor.pk:
            raise BookingError("forbidden")
        _check_cancellable(booking, manager=manager, now=now)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = actor
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        booking_notify(booking, "cancelled")
        if booking.member_id != actor.pk:
            audit_record(
                actor=actor,
                action="booking.cancel_for_member",
                target=booking,
                space_id=booking.resource.space_id,
                detail={"member": booking.member_id},
            )
    return booking


def booking_series_cancel(
    *,
    series: BookingSeries,
    actor: Member,
    from_date: dt.date | None = None,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Cancel the occurrences of a series whose local day is in [from_date, until].

    Occurrences already begun are history and left alone; if any other one is past its
    cancellation cutoff, nothing is cancelled.
    """
    now = now or timezone.now()
    tz = series.resource.space.tz
    with transaction.atomic():
        occurrences = list(
            series.bookings.select_for_update(of=("self",))
            .select_related("resource__space")
            .filter(status=Booking.Status.CONFIRMED, start__gt=now)
            .order_by("start")
        )
        chosen = [
            b
            for b in occurrences
            if (from_date is None or b.start.astimezone(tz).date() >= from_date)
            and (until is None or b.start.astimezone(tz).date() <= until)
        ]
        manager = is_co_manager(actor, series.resource.space_id)
        if not manager and series.member_id != actor.pk:
            raise BookingError("forbidden")
        for booking in chosen:
            try:
                _check_cancellable(booking, manager=manager, now=now)
            except BookingError as error:
                day = booking.start.astimezone(tz).date().isoformat()
                raise BookingError(error.code, error.message, occurrence=day) from error
        ids = [b.pk for b in chosen]
        Booking.objects.filter(pk__in=ids).update(
            status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=actor
        )
        for booking in chosen:
            booking.status, booking.cancelled_at, booking.cancelled_by = (
                Booking.Status.CANCELLED,
                now,
                actor,
            )
        series_notify(chosen, "cancelled")
    return chosen
