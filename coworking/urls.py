from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from api.views import calendar_feed

urlpatterns = [
    path("", RedirectView.as_view(url="/api/v1/docs/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # Log in and out of the browsable API (the pages of SPEC §6 come on top of it).
    path("api/v1/auth/", include("rest_framework.urls")),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("i18n/", include("django.conf.urls.i18n")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
