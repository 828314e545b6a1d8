from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from api.views import calendar_feed
from coworking.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/", include("api.urls")),
    # Log in and out of the browsable API (the pages of SPEC §6 come on top of it).
    path("api/v1/auth/", include("rest_framework.urls")),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
# Unmatched URLs under /api/ answer in the API's error shape; elsewhere Django's page.
handler404 = "api.errors.not_found"
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
