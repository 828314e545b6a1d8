from celery import shared_task
from django.db import connection


@shared_task(name="coworking.ping")
def ping() -> dict[str, str]:
    """Round trip through broker and worker: proves the wiring and the worker's database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"pong": "ok", "database": connection.vendor}
