from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path

from api.views import calendar_feed
from config.health import health

# Log in to the browsable API: DRF's login page, under the name its templates link to. Logging
# out is the API's own POST /api/v1/auth/logout/, which ends a session as well as a token.
browsable_api_login = (
    [path("login/", LoginView.as_view(template_name="rest_framework/login.html"), name="login")],
    "rest_framework",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/", include("api.urls")),
    path("api/v1/auth/", include(browsable_api_login)),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("web.urls")),
]
# Unmatched URLs and refused requests under /api/ answer in the API's error shape; elsewhere
# Django's page.
handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
