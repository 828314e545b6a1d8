"""Admin for co-managers: each one sees and changes only the spaces they co-manage."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .admin_scoping import ManagedAdminMixin, ManagedInlineMixin, managed_space_ids
from .models import (
    Booking,
    BookingSeries,
    Closure,
    Membership,
    Plan,
    Resource,
    Space,
    Training,
    TrainingRecord,
)
from .rules import BookingError
from .services import booking_cancel, booking_check, booking_create, booking_instants


class _SpaceScopedPermissions:
    """A user may view, change and delete the rows `get_queryset` gives them (see
    spaces/admin_scoping.py) and add where they co-manage a space."""

    if TYPE_CHECKING:  # given by the ModelAdmin or inline this is mixed into

        def get_queryset(self, request: HttpRequest) -> QuerySet: ...

    def _space_ids(self, request) -> set[int]:
        return managed_space_ids(request)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or bool(self._space_ids(request))

    def _owns(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj)


class SpaceScopedMixin(_SpaceScopedPermissions, ManagedAdminMixin):
    """Scope an admin to the spaces the user co-manages."""


class SpaceScopedInlineMixin(_SpaceScopedPermissions, ManagedInlineMixin):
    """For inlines, `obj` in the permission methods is the parent, which its own admin has
    already scoped; the inline's rows are scoped by `get_queryset`."""

    def _owns(self, request, obj) -> bool:
        return self.has_module_permission(request)


class MembershipInline(SpaceScopedInlineMixin, admin.TabularInline):
    model = Membership
    fk_name = "member"
    extra = 0
    fields = ["space", "plan", "role", "status", "starts_on", "ends_on"]


@admin.register(Space)
class SpaceAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "timezone"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Plan)
class PlanAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["name", "space", "desk_days_per_month", "price_per_month", "is_active"]
    list_filter = ["space", "is_active"]


@admin.register(Membership)
class MembershipAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["member", "space", "plan", "role", "status", "starts_on", "ends_on"]
    list_filter = ["space", "status", "role", "plan"]
    search_fields = ["member__email", "member__first_name", "member__last_name"]
    list_select_related = ["member", "space", "plan"]
    autocomplete_fields = ["member"]


class ResourceClosureFormSet(forms.BaseInlineFormSet):
    def save_new(self, form, commit=True):
        # A resource's closure is at the resource's space: nothing to choose, nothing to mix up.
        form.instance.space_id = self.instance.space_id
        return super().save_new(form, commit)


class ClosureInline(SpaceScopedInlineMixin, admin.TabularInline):
    model = Closure
    formset = ResourceClosureFormSet
    extra = 0
    fk_name = "resource"
    fields = ["starts_on", "ends_on", "reason"]


@admin.register(Resource)
class ResourceAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["name", "space", "kind", "desk_type", "capacity", "members_only", "is_active"]
    list_filter = ["space", "kind", "is_active"]
    search_fields = ["name"]
    inlines = [ClosureInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "space",
                    "name",
                    "kind",
                    "desk_type",
                    "assigned_to",
                    "capacity",
                    "description",
                    "is_active",
                ]
            },
        ),
        (
            _("Règles (vide : celles du lieu)"),
            {
                "fields": [
                    "training",
                    "members_only",
                    "opening_hours",
                    "min_booking_minutes",
                    "max_booking_minutes",
                    "booking_horizon_days",
                    "cancellation_cutoff_minutes",
                    "max_active_bookings",
                ]
            },
        ),
    ]
    autocomplete_fields = ["assigned_to"]


@admin.register(Closure)
class ClosureAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["space", "resource", "starts_on", "ends_on", "reason"]
    list_filter = ["space"]


@admin.register(Training)
class TrainingAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["name", "space"]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["member", "training", "granted_on", "expires_on"]
    autocomplete_fields = ["member"]


class WallClockDateTimeField(forms.SplitDateTimeField):
    """A day and a time as the space's clocks show them, left naive: the booking service reads
    them in the resource's timezone (spaces/wall_clock.py), not in the admin's."""

    def compress(self, data_list):
        if data_list and all(value not in self.empty_values for value in data_list):
            return dt.datetime.combine(*data_list)
        return super().compress(data_list)


class BookingAdminForm(forms.ModelForm):
    """New bookings go through the booking service, so the admin keeps every rule."""

    class Meta:
        model = Booking
        fields = ["resource", "member", "start", "end", "note"]
        field_classes = {"start": WallClockDateTimeField, "end": WallClockDateTimeField}

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None or not (data.get("start") and data.get("end")):
            return data
        if data.get("resource") is None:
            # Refused for its resource: the times are never read, but the model's own checks
            # want them aware.
            data["start"], data["end"] = (timezone.make_aware(data[k]) for k in ("start", "end"))
            return data
        asked = data["start"], data["end"]
        try:
            data["start"], data["end"] = booking_instants(
                resource=data["resource"], start=data["start"], end=data["end"]
            )
        except BookingError as error:
            # On the field at fault, so that no naive time reaches the model's checks.
            at_end = error.fields.get("local_time") not in (None, asked[0].isoformat())
            self.add_error(
                "end" if at_end else "start", forms.ValidationError(error.message, code=error.code)
            )
            return data
        if data.get("member") is None:
            return data
        try:
            booking_check(
                member=data["member"],
                resource=data["resource"],
                start=data["start"],
                end=data["end"],
                actor=self.actor,
                now=timezone.now(),
            )
        except BookingError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
        return data


@admin.action(description=_("Annuler les réservations choisies"))
def cancel_bookings(modeladmin, request, queryset):
    done, refused = 0, 0
    for booking in queryset:
        try:
            booking_cancel(booking=booking, actor=request.user)
            done += 1
        except BookingError:
            refused += 1
    modeladmin.message_user(
        request,
        _("%(done)d annulée(s), %(refused)d refusée(s).") % {"done": done, "refused": refused},
        messages.WARNING if refused else messages.SUCCESS,
    )


@admin.register(Booking)
class BookingAdmin(SpaceScopedMixin, admin.ModelAdmin):
    form = BookingAdminForm
    list_display = ["resource", "member", "start", "end", "status"]
    list_filter = ["status", "resource__space", "resource__kind"]
    search_fields = ["member__email", "member__first_name", "resource__name"]
    list_select_related = ["resource__space", "member"]
    date_hierarchy = "start"
    autocomplete_fields = ["member"]
    actions = [cancel_bookings]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # Changing a booking means cancelling it and booking again, through the rules.
        if obj is not None:
            return [
                "resource",
                "member",
                "start",
                "end",
                "status",
                "series",
                "created_by",
                "cancelled_at",
                "cancelled_by",
            ]
        return []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BookingError as error:
            # Free when the form was checked, taken by a concurrent writer before the save.
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save(update_fields=["note"])
            return
        created = booking_create(
            member=obj.member,
            resource=obj.resource,
            start=obj.start,
            end=obj.end,
            note=obj.note,
            actor=request.user,
        )
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bookings are cancelled, never deleted: usage figures depend on them


@admin.register(BookingSeries)
class BookingSeriesAdmin(SpaceScopedMixin, admin.ModelAdmin):
    list_display = ["resource", "member", "until", "created_at"]
    # Its occurrences were booked through the rules when it was created: moving the series to
    # another member, resource or end date here would leave them behind.
    readonly_fields = ["resource", "member", "until", "created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


# Registers the admins of the people, the audit log and the outbox (spaces/people_admin.py).
from . import people_admin  # noqa: E402, F401
