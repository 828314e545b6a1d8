"""The monthly summary email: per co-managed space, the month's figures and an occupancy
chart (inline image); for members who asked for it, a personal recap. HTML and plain text,
in the recipient's language (French by default)."""

from __future__ import annotations

import datetime as dt
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from coworking.models import Member
from coworking.months import month_last_day
from passes.models import Visit
from passes.selectors import allowance_left, current_pass
from spaces.models import Booking, Space
from spaces.selectors import co_manager_memberships

from .charts import occupancy_heatmap_png
from .usage import space_usage


def _co_managed_spaces(member: Member, month: dt.date) -> list[Space]:
    spaces = co_manager_memberships(first=month, last=month_last_day(month)).filter(member=member)
    return list(Space.objects.filter(pk__in=spaces.values("space_id")).order_by("name"))


def member_recap(member: Member, month: dt.date) -> dict[str, Any]:
    """Days booked, visits made and allowance left for one member in `month`."""
    first, last = month, month_last_day(month)
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
    # The pass the member's pages show (the selector's order), and its allowance rule.
    pass_obj = current_pass(member)
    return {
        "days_booked": len(days),
        "visits": [{"host": v["host__name"], "count": v["count"]} for v in visits],
        "visits_made": sum(v["count"] for v in visits),
        "allowance_left": None
        if pass_obj is None
        else allowance_left(pass_obj, first).network_left,
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
        # The images belong to the HTML part (a class attribute Django documents; no stub has it).
        message.mixed_subtype = "related"  # type: ignore[attr-defined]
        for cid, png in charts:
            image = MIMEImage(png, "png")
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
            message.attach(image)
    return message
