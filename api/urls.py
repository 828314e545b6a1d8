from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import passes_views, privacy_views, usage_views, views

router = DefaultRouter(trailing_slash=True)
# No `/bookings/1.json` twins of every route: a custom action has no `format` argument, so each
# twin of one was a 500; `?format=` still chooses a renderer.
router.include_format_suffixes = False
router.register("spaces", views.SpaceViewSet, basename="space")
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("booking-series", views.BookingSeriesViewSet, basename="booking-series")
router.register(
    r"spaces/(?P<slug>[-\w]+)/partner-keys", passes_views.PartnerKeyViewSet, basename="partner-key"
)
router.register(
    r"spaces/(?P<slug>[-\w]+)/passes", passes_views.SpacePassViewSet, basename="space-pass"
)
router.register(
    r"spaces/(?P<slug>[-\w]+)/scans", passes_views.SpaceScanViewSet, basename="space-scan"
)
router.register(
    r"spaces/(?P<slug>[-\w]+)/visits", passes_views.SpaceVisitViewSet, basename="space-visit"
)

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/export/", privacy_views.MyDataExportView.as_view(), name="my-data-export"),
    path("me/erase/", privacy_views.MyAccountEraseView.as_view(), name="my-account-erase"),
    path("me/pass/", passes_views.MyPassView.as_view(), name="my-pass"),
    path("me/pass/qr.svg", passes_views.MyPassQRView.as_view(), name="my-pass-qr-svg"),
    path(
        "me/pass/qr.png",
        passes_views.MyPassQRView.as_view(image_format="png"),
        name="my-pass-qr-png",
    ),
    path(
        "me/pass/card.svg", passes_views.MyPassQRView.as_view(static=True), name="my-pass-card-svg"
    ),
    path("scans/", passes_views.ScanView.as_view(), name="scans"),
    path("scans/batch/", passes_views.ScanBatchView.as_view(), name="scans-batch"),
    path("network/keys/", passes_views.NetworkKeysView.as_view(), name="network-keys"),
    path(
        "network/revocations/",
        passes_views.RevocationListView.as_view(),
        name="network-revocations",
    ),
    path(
        "network/settlement/",
        usage_views.NetworkSettlementView.as_view(),
        name="network-settlement",
    ),
    path("spaces/<slug:slug>/usage/", usage_views.SpaceUsageView.as_view(), name="space-usage"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]
