"""The admin of the ground floor's models (people, audit log, outbox). It lives here, not in
coworking/, because who may see a person is decided by the spaces they co-manage: the ground
floor knows nothing of spaces (README "Architecture"). spaces/admin.py loads it."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Case, CharField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from coworking.models import AuditEntry, Member, OutboxMessage
from coworking.outbox import OUTBOX_STATES
from coworking.privacy import member_erase

from .admin import MembershipInline
from .admin_scoping import (
    ManagedAdminMixin,
    ReadOnlyAdminMixin,
    admin_scope_register,
    managed_space_ids,
    nothing,
)
from .models import Membership
from .selectors import co_managed_space_ids


@admin.action(description=_("Effacer les données personnelles (RGPD)"), permissions=["change"])
def erase_members(modeladmin, request, queryset) -> None:
    # `queryset` holds only the people this user manages (MemberAdmin.get_queryset); each one
    # is checked again, since erasing reaches every space the person belongs to.
    erased, refused = 0, 0
    for member in queryset:
        if modeladmin.may_erase(request, member):
            member_erase(member, actor=request.user, reason="admin")
            erased += 1
        else:
            refused += 1
    modeladmin.message_user(
        request, _("%(count)d membre(s) effacé(s).") % {"count": erased}, messages.SUCCESS
    )
    if refused:
        modeladmin.message_user(
            request,
            _(
                "%(count)d membre(s) non effacé(s) : vous-même, ou inscrit·es aussi dans un lieu "
                "que vous ne gérez pas (la personne peut effacer son compte elle-même)."
            )
            % {"count": refused},
            messages.WARNING,
        )


@admin.register(Member)
class MemberAdmin(ManagedAdminMixin, UserAdmin):
    """Co-managers see and edit the people who hold a membership in one of their spaces
    (`managed_members`), platform accounts excepted."""

    ordering = ["first_name", "last_name"]
    list_display = ["email", "first_name", "last_name", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_active", "memberships__space"]
    inlines = [MembershipInline]
    actions = [erase_members]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["first_name", "last_name", "photo", "language"]}),
        (_("Accès"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    superuser_fieldsets = [
        (_("Plateforme"), {"fields": ["is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "first_name", "last_name", "password1", "password2"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if request.user.is_superuser:
            return [*self.fieldsets, *self.superuser_fieldsets]
        return self.fieldsets

    def _manages_any(self, request) -> bool:
        return request.user.is_superuser or bool(co_managed_space_ids(request.user))

    def has_module_permission(self, request) -> bool:
        return self._manages_any(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self._manages_any(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None) -> bool:
        if not self.has_view_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        # Whoever co-manages a space this co-manager does not is out of reach: changing their
        # email, password or active flag would hand over that other space's admin.
        return co_managed_space_ids(obj) <= co_managed_space_ids(request.user)

    def has_add_permission(self, request) -> bool:
        return self._manages_any(request)

    def may_erase(self, request, obj: Member) -> bool:
        """Erasing ends every membership of the person: a co-manager erases only people whose
        current memberships are all at spaces they co-manage, and never themselves."""
        if obj.pk == request.user.pk or not self.has_change_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        current = Membership.objects.filter(member=obj).exclude(status=Membership.Status.ENDED)
        return set(current.values_list("space_id", flat=True)) <= managed_space_ids(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


class ManagedRecordAdmin(ReadOnlyAdminMixin, ManagedAdminMixin, admin.ModelAdmin):
    """Read-only records that a co-manager of any space may browse, within their scope."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or bool(co_managed_space_ids(request.user))

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()


@admin.register(AuditEntry)
class AuditEntryAdmin(ManagedRecordAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action"]
    date_hierarchy = "at"
    list_select_related = ["actor"]


class OutboxStateFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return OutboxMessageAdmin.STATE_LABELS.items()

    def queryset(self, request, queryset):
        if self.value() in OUTBOX_STATES:
            return queryset.filter(OUTBOX_STATES[self.value()])
        return queryset


admin_scope_register(OutboxMessage, nothing)  # rows of no space: superusers only


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, ManagedAdminMixin, admin.ModelAdmin):
    """The work queued after requests, read-only and for superusers: a row out of attempts
    ("abandonnée") is never run again, so someone has to read its error. Payloads name
    members of every space, so co-managers do not see this list."""

    STATE_LABELS = {
        "pending": _("en attente"),
        "done": _("faite"),
        "dead": _("abandonnée (plus d'essai)"),
    }
    list_display = ["__str__", "created_at", "state", "attempts", "done_at"]
    list_filter = [OutboxStateFilter, "kind"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind",
        "payload",
        "created_at",
        "attempts",
        "claimed_at",
        "done_at",
        "last_error",
    )

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_queryset(self, request) -> QuerySet[OutboxMessage]:
        states = [When(rule, then=Value(name)) for name, rule in OUTBOX_STATES.items()]
        return super().get_queryset(request).annotate(state=Case(*states, output_field=CharField()))

    @admin.display(description=_("état"), ordering="state")
    def state(self, obj: OutboxMessage) -> str:
        # `state` is the annotation of get_queryset, not a field of the model.
        return str(self.STATE_LABELS[obj.state])  # type: ignore[attr-defined]
