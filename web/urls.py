from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

app_name = "web"

# Each page family has its own URL module: member pages, the partner scanner, the dashboard.
urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("", include("web.member_urls")),
    path("lecteur/", include("web.scanner_urls")),
    path("tableau-de-bord/", include("web.dashboard_urls")),
]
