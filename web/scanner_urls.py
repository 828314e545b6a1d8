from django.urls import path

from . import scanner_views

# Included by web/urls.py at /lecteur/ (app namespace "web").
urlpatterns = [
    path("", scanner_views.scanner, name="scanner"),
    path("appairer/", scanner_views.scanner_pair, name="scanner_pair"),
    path("appairer/ok/", scanner_views.scanner_paired, name="scanner_paired"),
    path("appareil/", scanner_views.ScannerDeviceView.as_view(), name="scanner_device"),
    path("sw.js", scanner_views.scanner_service_worker, name="scanner_service_worker"),
]
