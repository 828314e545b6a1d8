"""Member pages (SPEC §6): book, my bookings, my ch'tipass. French paths, named in English."""

from django.urls import path

from . import member_pass_views, member_views

urlpatterns = [
    path("reserver/", member_views.book, name="book"),
    path("reserver/nouvelle/", member_views.booking_new, name="booking_new"),
    path("reservations/", member_views.bookings, name="bookings"),
    path(
        "reservations/<int:pk>/annuler/",
        member_views.booking_cancel_view,
        name="booking_cancel",
    ),
    path(
        "reservations/agenda/nouveau-lien/",
        member_views.calendar_rotate,
        name="calendar_rotate",
    ),
    path("pass/", member_pass_views.pass_page, name="pass"),
    # Under /pass/ so that the worker's default scope is the pass page (no header needed).
    path("pass/sw.js", member_pass_views.pass_service_worker, name="pass_sw"),
]
