"""The monthly summary email: per co-managed space, the month's figures and an occupancy
chart (inline image); for members who asked for it, a personal recap. HTML and plain text,
in the recipient's language (French by default)."""

from __future__ import annotations

import datetime as dt
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from passes.models import AllowanceCounter, Pass, Visit
from spaces.models import Booking, Membership, Space

from .charts import occupancy_heatmap_png
from .models import Member
from .summaries import month_bounds
from .usage import space_usage


def _co_managed_spaces(member: Member, month: dt.date) -> list[Space]:
    first, last = month_bounds(month)
    return list(
        Space.objects.filter(
            Q(memberships__ends_on__isnull=True) | Q(memberships__ends_on__gte=first),
            memberships__member=member,
            memberships__role=Membership.Role.CO_MANAGER,
            memberships__status=Membership.Status.ACTIVE,
            memberships__starts_on__lte=last,
        )
        .distinct()
        .order_by("name")
    )


def member_recap(member: Member, month: dt.date) -> dict[str, Any]:
    """Days booked, visits made and allowance left for one member in `month`."""
    first, last = month_bounds(month)
    tz = dt.UTC
    bookings = Booking.objects.filter(
        member=member,
        status=Booking.Status.CONFIRMED,
        start__gte=dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=tz),
        start__lt=dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), tzinfo=tz),
    ).select_related("resource__space")
    days = {
        b.start.astimezone(b.resource.space.tz).date()
        for b in bookings
        if first <= b.start.astimezone(b.resource.space.tz).date() <= last
    }
    visits = list(
        Visit.objects.filter(member=member, date__gte=first, date__lte=last, uses_allowance=True)
        .values("host__name")
        .annotate(count=Count("id"))
        .order_by("-count", "host__name")
    )
    pass_obj = (
        Pass.objects.filter(member=member)
        .exclude(status=Pass.Status.REVOKED)
        .select_related("network")
        .first()
    )
    allowance_left = None
    if pass_obj is not None:
        used = (
            AllowanceCounter.objects.filter(
                member=member, network=pass_obj.network, month=first, host__isnull=True
            ).aggregate(used=Sum("used"))["used"]
            or 0
        )
        allowance_left = max(pass_obj.network.monthly_visits - used, 0)
    return {
        "days_booked": len(days),
        "visits": [{"host": v["host__name"], "count": v["count"]} for v in visits],
        "visits_made": sum(v["count"] for v in visits),
        "allowance_left": allowance_left,
    }


def _section(space: Space, month: dt.date) -> dict[str, Any]:
    usage = space_usage(space, month)
    totals = usage["bookings"]["totals"]
    busiest = [
        {
            "weekday": formats.date_format(
                dt.date(2024, 1, day["weekday"]), "l"
            ),  # 2024-01-01: Mon
            "hours": day["booked_hours"],
        }
        for day in usage["bookings"]["busiest_weekdays"][:3]
        if day["booked_hours"]
    ]
    return {
        "space": space,
        "cid": f"occupancy-{space.slug}",
        "bookings": totals["bookings"],
        "booked_hours": round(totals["booked_hours"], 1),
        "occupancy": None if totals["occupancy"] is None else round(totals["occupancy"] * 100),
        "busiest": busiest,
        "visits_hosted": usage["visits"]["visits_hosted"],
        "visits_made": usage["visits"]["visits_made"],
        "active_members": usage["distinct_active_members"],
        "balances": usage["settlement"],
        "balance_total": sum((line["balance"] for line in usage["settlement"]), 0),
        "heatmap": usage["bookings"]["heatmap"],
    }


def summary_message(recipient: Member, month: dt.date) -> EmailMultiAlternatives:
    """The whole email for one recipient; nothing is sent here."""
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        month_name = formats.date_format(month, "F Y")
        sections = [_section(space, month) for space in _co_managed_spaces(recipient, month)]
        context = {
            "recipient": recipient,
            "month_name": month_name,
            "sections": sections,
            "recap": member_recap(recipient, month) if recipient.monthly_recap else None,
            "site_url": settings.SITE_URL,
        }
        subject = _("ch'tipass — votre récapitulatif de %(month)s") % {"month": month_name}
        text = render_to_string("emails/monthly_summary.txt", context)
        html = render_to_string("emails/monthly_summary.html", context)
        charts = [
            (
                section["cid"],
                occupancy_heatmap_png(
                    section["heatmap"],
                    _("Occupation — %(space)s") % {"space": section["space"].name},
                ),
            )
            for section in sections
        ]
    message = EmailMultiAlternatives(subject, text, to=[recipient.email])
    message.attach_alternative(html, "text/html")
    if charts:
        message.mixed_subtype = "related"  # the images belong to the HTML part
        for cid, png in charts:
            image = MIMEImage(png, "png")
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
            message.attach(image)
    return message
