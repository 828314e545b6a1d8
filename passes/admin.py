"""Admin of the ch'tipass network, scoped like spaces/admin.py.

A co-manager sees the passes of their own members, their spaces' scanner keys, the scans made
at their spaces and the visits their spaces hosted or their members made elsewhere. Writes go
through passes.services, so the admin keeps every rule and leaves an audit row.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from spaces.admin import SpaceScopedMixin
from spaces.admin_scoping import (
    ManagedAdminMixin,
    ManagedInlineMixin,
    ReadOnlyAdminMixin,
    admin_scope_register,
    in_spaces,
    nothing,
)
from spaces.models import Membership

from .models import Network, NetworkSpace, PartnerKey, Pass, Scan, SigningKey, Visit
from .partner_keys import partner_key_create, partner_key_revoke
from .services import (
    PassError,
    pass_issue,
    pass_issue_check,
    pass_reinstate,
    pass_revoke,
    pass_suspend,
)


def _networks(queryset: QuerySet[Network], space_ids: set[int]) -> QuerySet[Network]:
    # A subquery rather than a join: a space in two of the network's rows must not list it twice.
    in_spaces = NetworkSpace.objects.filter(space_id__in=space_ids).values("network_id")
    return queryset.filter(pk__in=in_spaces)


def _visits(queryset: QuerySet[Visit], space_ids: set[int]) -> QuerySet[Visit]:
    # Visits the co-manager's spaces hosted, and visits their members made elsewhere.
    return queryset.filter(Q(host_id__in=space_ids) | Q(home_id__in=space_ids))


# What a co-manager manages of the network (spaces/admin_scoping.py).
admin_scope_register(Network, _networks)
admin_scope_register(NetworkSpace, in_spaces("space_id"))
admin_scope_register(Pass, in_spaces("membership__space_id"))
admin_scope_register(PartnerKey, in_spaces("space_id"))
admin_scope_register(Scan, in_spaces("host_id"))
admin_scope_register(Visit, _visits)
admin_scope_register(SigningKey, nothing)

# The library registers its own APIKey model; ch'tipass only uses PartnerKey.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


# --- Network ---------------------------------------------------------------------------------


class NetworkSpaceInline(ManagedInlineMixin, admin.TabularInline):
    """Superusers only: a co-manager has no model permissions, so Django hides it from them."""

    model = NetworkSpace
    extra = 0
    fields = ["space", "daily_visitor_capacity", "joined_on"]


@admin.register(Network)
class NetworkAdmin(SpaceScopedMixin, admin.ModelAdmin):
    """The network's rules bind every space in it: only superusers change them."""

    list_display = ["name", "slug", "monthly_visits", "monthly_visits_per_host", "day_rate"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [NetworkSpaceInline]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or self.get_queryset(request).exists()

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(NetworkSpace)
class NetworkSpaceAdmin(SpaceScopedMixin, admin.ModelAdmin):
    """A co-manager sets their own space's daily capacity; joining a network is for superusers."""

    list_display = ["space", "network", "daily_visitor_capacity", "joined_on"]
    list_filter = ["network"]
    list_select_related = ["space", "network"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return []
        return ["network", "space", "joined_on"]

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


# --- Passes ----------------------------------------------------------------------------------


class PassIssueForm(forms.ModelForm):
    """A new pass is issued by the service, so the admin keeps its rules."""

    actor = None

    class Meta:
        model = Pass
        fields = ["membership", "network"]

    def clean(self):
        data = super().clean()
        membership, network = data.get("membership"), data.get("network")
        if membership and network:
            try:
                pass_issue_check(membership=membership, network=network)
            except PassError as error:
                raise forms.ValidationError(error.message, code=error.code) from error
        return data


class PassActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Motif"),
        max_length=200,
        required=False,
        help_text=_("Obligatoire pour suspendre, rétablir ou révoquer."),
    )


def _change_passes(modeladmin, request, queryset, service, done_text) -> None:
    """Run a pass service on each selected pass and say what happened, pass by pass."""
    reason = request.POST.get("reason", "").strip()
    if not reason:
        modeladmin.message_user(
            request, _("Indiquez un motif : il est gardé dans le journal."), messages.ERROR
        )
        return
    done, refused = 0, []
    for pass_obj in queryset.select_related("membership", "member"):
        try:
            service(pass_obj=pass_obj, actor=request.user, reason=reason)
            done += 1
        except PassError as error:
            refused.append(f"{pass_obj} : {error.message}")
    if done:
        modeladmin.message_user(request, done_text % {"count": done}, messages.SUCCESS)
    for text in refused:
        modeladmin.message_user(request, text, messages.ERROR)


@admin.action(description=_("Suspendre les ch'tipass choisis"), permissions=["change"])
def suspend_passes(modeladmin, request, queryset) -> None:
    _change_passes(
        modeladmin,
        request,
        queryset,
        pass_suspend,
        ngettext_lazy("%(count)d ch'tipass suspendu.", "%(count)d ch'tipass suspendus.", "count"),
    )


@admin.action(description=_("Rétablir les ch'tipass choisis"), permissions=["change"])
def reinstate_passes(modeladmin, request, queryset) -> None:
    _change_passes(
        modeladmin,
        request,
        queryset,
        pass_reinstate,
        ngettext_lazy("%(count)d ch'tipass rétabli.", "%(count)d ch'tipass rétablis.", "count"),
    )


@admin.action(description=_("Révoquer les ch'tipass choisis"), permissions=["change"])
def revoke_passes(modeladmin, request, queryset) -> None:
    _change_passes(
        modeladmin,
        request,
        queryset,
        pass_revoke,
        ngettext_lazy("%(count)d ch'tipass révoqué.", "%(count)d ch'tipass révoqués.", "count"),
    )


@admin.register(Pass)
class PassAdmin(SpaceScopedMixin, admin.ModelAdmin):
    """Passes of the members whose home is one of the co-manager's spaces."""

    form = PassIssueForm
    action_form = PassActionForm
    actions = [suspend_passes, reinstate_passes, revoke_passes]
    list_display = ["id", "member", "network", "home_space", "status", "status_changed_at"]
    list_filter = ["status", "network", ("membership__space", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["member", "network", "membership__space"]
    search_fields = ["member__email", "member__first_name", "member__last_name"]
    readonly_fields = [
        "member",
        "membership",
        "network",
        "status",
        "issued_at",
        "status_changed_at",
        "status_reason",
    ]

    @admin.display(description=_("lieu d'origine"), ordering="membership__space__name")
    def home_space(self, obj: Pass):
        return obj.membership.space

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["membership", "network"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        # The status changes only through the actions, which go through the services.
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The choices are narrowed by the mixin; here they are labelled without a query each.
        if db_field.name == "membership":
            kwargs["queryset"] = Membership.objects.select_related("member", "space")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: Pass, form, change: bool) -> None:
        if change:
            return  # every field is read-only; changes go through the actions
        issued = pass_issue(membership=obj.membership, network=obj.network, actor=request.user)
        obj.pk, obj.member_id, obj.status = issued.pk, issued.member_id, issued.status
        obj.issued_at = issued.issued_at

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # scans and visits point at it: revoke instead


# --- Keys ------------------------------------------------------------------------------------


@admin.register(SigningKey)
class SigningKeyAdmin(ManagedAdminMixin, admin.ModelAdmin):
    """Superusers read the registry; `manage.py signing_keys` writes it. The private half is
    not even loaded from the database here."""

    list_display = ["kid", "status", "not_before", "sign_until", "verify_until"]
    list_filter = ["status"]
    fields = [
        "kid",
        "status",
        "public_key",
        "not_before",
        "sign_until",
        "verify_until",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request) -> QuerySet[SigningKey]:
        return super().get_queryset(request).defer("encrypted_private_key")

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.action(description=_("Révoquer les clés choisies"), permissions=["change"])
def revoke_partner_keys(modeladmin, request, queryset) -> None:
    revoked = 0
    for partner_key in queryset.filter(revoked=False):
        partner_key_revoke(partner_key=partner_key, actor=request.user)
        revoked += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d clé révoquée.", "%(count)d clés révoquées.", revoked)
        % {"count": revoked},
        messages.SUCCESS,
    )


@admin.register(PartnerKey)
class PartnerKeyAdmin(SpaceScopedMixin, APIKeyModelAdmin):
    """Scanner keys of the co-manager's spaces. The key is shown once, when it is created;
    only its hash is stored."""

    list_display = [
        "prefix",
        "name",
        "space",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
        "last_used_at",
    ]
    list_filter = ["revoked", "created", ("space", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["space"]
    actions = [revoke_partner_keys]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "space", "expiry_date"]
        return [
            "name",
            "space",
            "prefix",
            "expiry_date",
            "revoked",
            "created",
            "created_by",
            "last_used_at",
        ]

    def get_changeform_initial_data(self, request) -> dict:
        initial = super().get_changeform_initial_data(request)
        space_ids = self._space_ids(request)
        if len(space_ids) == 1 and not request.user.is_superuser:
            initial.setdefault("space", next(iter(space_ids)))
        return initial

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["space", "revoked", "created", "created_by", "last_used_at"]
        return readonly

    def save_model(self, request, obj: PartnerKey, form, change: bool) -> None:
        if change:  # name and expiry only; revoking goes through the action
            super().save_model(request, obj, form, change)
            return
        created, key = partner_key_create(
            space=obj.space, name=obj.name, actor=request.user, expiry_date=obj.expiry_date
        )
        obj.pk = created.pk
        self.message_user(
            request,
            _(
                "Clé du lecteur « %(name)s » : %(key)s — notez-la maintenant, "
                "elle ne sera plus jamais affichée."
            )
            % {"name": obj.name, "key": key},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # scans keep pointing at the key: revoke it instead


# --- Scans and visits ------------------------------------------------------------------------


class _VisitorMixin:
    """The host sees a visitor's first name only (SPEC §3); the home space sees the full name.

    `visitor_home_path` leads from the row to the visitor's home space id.
    """

    visitor_home_path: str
    visitor_path: str

    def _with_visitor_scope(self, request, queryset: QuerySet) -> QuerySet:
        if request.user.is_superuser:
            ours = Value(True, output_field=BooleanField())
        else:
            ours = Case(
                When(**{f"{self.visitor_home_path}__in": self._space_ids(request)}, then=True),
                default=False,
                output_field=BooleanField(),
            )
        return queryset.annotate(visitor_is_ours=ours)

    def _visitor_member(self, obj):
        member = obj
        for step in self.visitor_path.split("__"):
            member = getattr(member, step, None)
            if member is None:
                return None
        return member

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        member = self._visitor_member(obj) if obj is not None else None
        if member is not None and not obj.visitor_is_ours:
            # The change page is titled with str(obj), which names the member in full. These
            # admins never save, so the host's in-memory copy is trimmed to the first name.
            member.last_name = member.email = ""
        return obj

    @admin.display(description=_("visiteur·se"))
    def visitor(self, obj) -> str:
        member = self._visitor_member(obj)
        if member is None:
            return "—"
        if obj.visitor_is_ours:
            return member.get_full_name() or member.email
        return member.first_name


@admin.register(Scan)
class ScanAdmin(_VisitorMixin, ReadOnlyAdminMixin, SpaceScopedMixin, admin.ModelAdmin):
    """Scans made at the co-manager's spaces. The credential read is not shown: a printed
    card's stays valid for a year."""

    visitor_home_path = "pass_obj__membership__space_id"
    visitor_path = "pass_obj__member"
    list_display = [
        "received_at",
        "host",
        "visitor",
        "decision",
        "reason",
        "already_checked_in",
        "offline",
        "flagged",
    ]
    list_filter = ["decision", "reason", "offline", "flagged"]
    list_select_related = ["host", "pass_obj__member"]
    date_hierarchy = "received_at"
    fields = [
        "host",
        "visitor",
        "partner_key",
        "scanned_at",
        "received_at",
        "decision",
        "reason",
        "already_checked_in",
        "offline",
        "flagged",
        "nonce",
        "kid",
        "counter",
        "visit_date",
    ]
    readonly_fields = fields

    @admin.display(description=_("visite du"))
    def visit_date(self, obj: Scan):
        # Not the Visit itself: its label carries the visitor's full name.
        return obj.visit.date if obj.visit else "—"

    def get_queryset(self, request) -> QuerySet[Scan]:
        queryset = super().get_queryset(request).select_related("pass_obj__member", "visit")
        return self._with_visitor_scope(request, queryset)


@admin.register(Visit)
class VisitAdmin(_VisitorMixin, ReadOnlyAdminMixin, SpaceScopedMixin, admin.ModelAdmin):
    """Visits the co-manager's spaces hosted, and visits their members made elsewhere."""

    visitor_home_path = "home_id"
    visitor_path = "member"
    list_display = ["date", "visitor", "home", "host", "uses_allowance", "flagged", "flag_reason"]
    list_filter = [
        "flagged",
        "uses_allowance",
        ("host", admin.RelatedOnlyFieldListFilter),
        ("home", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["member", "host", "home"]
    date_hierarchy = "date"
    fields = [
        "date",
        "visitor",
        "home",
        "host",
        "uses_allowance",
        "flagged",
        "flag_reason",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request) -> QuerySet[Visit]:
        queryset = super().get_queryset(request).select_related("member")
        return self._with_visitor_scope(request, queryset)
