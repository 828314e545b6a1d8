import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
django_application = get_wsgi_application()

# Imported once Django is set up: accepted scans skip the full request cycle (see the module).
from api.scan_lane import ScanFastLane  # noqa: E402

application = ScanFastLane(django_application)
