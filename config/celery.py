"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is in the database."""

import os

from celery import Celery

# A forgotten DJANGO_SETTINGS_MODULE must not serve with DEBUG on and a published key: production
# settings refuse to start without DJANGO_SECRET_KEY and DATABASE_URL.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("teiki")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
