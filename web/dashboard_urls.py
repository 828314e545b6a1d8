from django.urls import path

from . import dashboard_views

# Included at /tableau-de-bord/ inside the "web" namespace.
urlpatterns = [
    path("", dashboard_views.dashboard, name="dashboard"),
]
