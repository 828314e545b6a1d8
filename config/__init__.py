"""The project wiring (README "Architecture"): nothing imports this package but the entry points.

The Celery app is loaded with the settings, so that every `shared_task` binds to it, in web
processes too (they queue tasks)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
