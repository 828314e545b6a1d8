import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task carries an explicit name ("coworking.outbox_sweep"...): messages already queued and
# beat entries resolve whatever package holds this app.
app = Celery("coworking")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
