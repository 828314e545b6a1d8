"""The admin of the reports: monthly summaries, read-only, within each co-manager's scope."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet

from coworking.models import Member
from spaces.admin_scoping import admin_scope_register, managed_members
from spaces.people_admin import ManagedRecordAdmin

from .models import SummaryDispatch


def _summaries(queryset: QuerySet[SummaryDispatch], space_ids: set[int]) -> QuerySet:
    # The summaries of the people the co-manager manages, their own included.
    return queryset.filter(recipient__in=managed_members(Member.objects.all(), space_ids))


admin_scope_register(SummaryDispatch, _summaries)


@admin.register(SummaryDispatch)
class SummaryDispatchAdmin(ManagedRecordAdmin):
    """Monthly summaries and how their sending ended, read-only: one that ended `unknown` (a
    worker died mid-send) is never sent again, so someone has to look.

    A co-manager sees the summaries of the people they manage, their own included: those are
    the people they would tell, and whose account they can already open. The error text is a
    server trace, for superusers only."""

    list_display = ["recipient", "month", "status", "attempts", "claimed_at", "sent_at"]
    list_filter = ["status", "month"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "recipient__first_name", "recipient__last_name"]
    date_hierarchy = "month"

    def get_fields(self, request, obj=None):
        fields = ["recipient", "month", "status", "attempts", "claimed_at", "sent_at"]
        return [*fields, "last_error"] if request.user.is_superuser else fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)
