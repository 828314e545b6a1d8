"""What each admin user may manage, said once for every model, and enforced by every admin.

A co-manager manages what belongs to the spaces they co-manage; a superuser manages everything.
`SCOPES` says, per model, which rows that is. The mixins below apply it to every list, every
object page, and every form field that points at another object (foreign keys, one-to-ones and
many-to-manys, generated or declared, with select, autocomplete or raw-id widgets): a form
offers only those rows and refuses any other id on submit, as an invalid choice. A model that
is missing from `SCOPES` gives a co-manager nothing, so a new relation fails closed.

The admin site registers every ModelAdmin (ours and third-party ones) through
`managed_admin_class`, so no admin can skip the mixins. They also accept filters in a changelist
URL only on declared filters (`list_filter`, `date_hierarchy`): Django allows any lookup on a
model's own fields, which turns `?credential__startswith=CP1:` into an oracle on a hidden field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.filters import SimpleListFilter
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from coworking.models import AuditEntry, Member

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
from .selectors import co_managed_space_ids

Scope = Callable[[QuerySet, set[int]], QuerySet]


def managed_space_ids(request: HttpRequest) -> set[int]:
    """The spaces the request's user co-manages, worked out once per request."""
    if not hasattr(request, "_co_managed_space_ids"):
        request._co_managed_space_ids = co_managed_space_ids(request.user)
    return request._co_managed_space_ids


def managed_members(queryset: QuerySet[Member], space_ids: set[int]) -> QuerySet[Member]:
    """People with a membership (even ended) in one of `space_ids`. Platform accounts are out
    of a co-manager's reach, even when they hold a membership."""
    return queryset.filter(
        pk__in=Membership.objects.filter(space_id__in=space_ids).values("member_id"),
        is_superuser=False,
        is_staff=False,
    )


def in_spaces(path: str) -> Scope:
    """The rows whose `path` leads to one of the co-manager's spaces."""

    def scope(queryset: QuerySet, space_ids: set[int]) -> QuerySet:
        return queryset.filter(**{f"{path}__in": space_ids})

    return scope


def nothing(queryset: QuerySet, space_ids: set[int]) -> QuerySet:
    """No row: for what only superusers manage."""
    return queryset.none()


# The floors above (passes/admin.py, reports/admin.py) add their models with `admin_scope_register`.
SCOPES: dict[type[Model], Scope] = {
    Space: in_spaces("id"),
    Plan: in_spaces("space_id"),
    Membership: in_spaces("space_id"),
    Resource: in_spaces("space_id"),
    Closure: in_spaces("space_id"),
    Training: in_spaces("space_id"),
    TrainingRecord: in_spaces("training__space_id"),
    Booking: in_spaces("resource__space_id"),
    BookingSeries: in_spaces("resource__space_id"),
    Member: managed_members,
    AuditEntry: in_spaces("space_id"),
}


def admin_scope_register(model: type[Model], scope: Scope) -> None:
    """Say which rows of `model` a co-manager manages (called when an app's admin loads)."""
    SCOPES[model] = scope


# Registered by Django or a library, deliberately for superusers only: a co-manager has no
# model permission on them, and SCOPES gives them none of their rows either.
SUPERUSERS_ONLY = {
    "auth.group",
    "auth.permission",
    "contenttypes.contenttype",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}


def admin_scope(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """The rows of `queryset` that the request's user may manage in the admin."""
    if request.user.is_superuser:
        return queryset
    scope = SCOPES.get(queryset.model, nothing)
    return scope(queryset, managed_space_ids(request))


def _scope_form_class(form_class: type[forms.BaseForm], request: HttpRequest) -> None:
    """Narrow every relation field of a freshly built form class to what the user manages.

    The fields are copied first: a declared field is shared with the form it was declared on,
    and narrowing it in place would leak one request's choices into another's."""
    for name, field in list(form_class.base_fields.items()):
        if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
            scoped = copy.deepcopy(field)
            scoped.queryset = admin_scope(field.queryset, request)
            form_class.base_fields[name] = scoped


def _field_path(model: type[Model], lookup: str) -> str:
    """The fields a lookup walks through: `space__id__exact` is `space`, `credential__startswith`
    is `credential`, `memberships__space__name` is `memberships__space__name`."""
    path: list[str] = []
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            break
        if path and isinstance(field, Field) and field.primary_key and not field.is_relation:
            break  # the primary key of a related object is that object
        path.append(part)
        if not field.is_relation:
            break  # what follows are transforms and lookups
        model = field.related_model
    return LOOKUP_SEP.join(path)


class _ManagedBase:
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return admin_scope(super().get_queryset(request), request)


class ManagedAdminMixin(_ManagedBase):
    """For every ModelAdmin: scoped rows, scoped relation fields, declared filters only."""

    def get_form(self, request, obj=None, *args, **kwargs):
        # *args: ModelAdmin takes `change` by position, UserAdmin does not take it at all.
        form_class = super().get_form(request, obj, *args, **kwargs)
        _scope_form_class(form_class, request)
        return form_class

    def get_changelist_formset(self, request, **kwargs):
        formset_class = super().get_changelist_formset(request, **kwargs)
        _scope_form_class(formset_class.form, request)
        return formset_class

    def declared_lookups(self, request: HttpRequest) -> set[str]:
        declared = {self.date_hierarchy} if self.date_hierarchy else set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                declared.add(item.parameter_name)
            elif isinstance(item, list | tuple):
                declared.add(item[0])
            else:
                declared.add(item)
        return declared

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The raw-id popup of a relation with `limit_choices_to` filters by it: Django allows it.
        for fk_lookup in self.model._meta.related_fkey_lookups:
            fk_lookup = fk_lookup() if callable(fk_lookup) else fk_lookup
            if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                return super().lookup_allowed(lookup, value, request)
        declared = self.declared_lookups(request)
        if lookup not in declared and _field_path(self.model, lookup) not in declared:
            return False
        return super().lookup_allowed(lookup, value, request)


class ReadOnlyAdminMixin:
    """For records nobody edits in the admin: logs, scans, visits, dispatches."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ManagedInlineMixin(_ManagedBase):
    """For every inline: scoped rows and scoped relation fields."""

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        _scope_form_class(formset_class.form, request)
        return formset_class


def _with_mixin(cls: type, mixin: type, **attrs) -> type:
    if issubclass(cls, mixin) and not attrs:
        return cls
    bases = (cls,) if issubclass(cls, mixin) else (mixin, cls)
    return type(cls.__name__, bases, {"__module__": cls.__module__, **attrs})


def managed_admin_class(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`admin_class`, and its inlines, with the mixins above if they lack them."""
    inlines = [_with_mixin(inline, ManagedInlineMixin) for inline in admin_class.inlines]
    if inlines == list(admin_class.inlines):
        return _with_mixin(admin_class, ManagedAdminMixin)
    return _with_mixin(admin_class, ManagedAdminMixin, inlines=inlines)
