"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is in the database."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

# A forgotten DJANGO_SETTINGS_MODULE must not serve with DEBUG on and a published key: production
# settings refuse to start without DJANGO_SECRET_KEY and DATABASE_URL.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("teiki")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:  # noqa: ANN001, ANN003
    """What Django does around a request: a connection past CONN_MAX_AGE, or one that errored, is
    closed; with CONN_MAX_AGE = 0 (the default) that is every connection, after every task. Not for
    a task run eagerly inside the caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
