"""The nightly run at 02:00 shop time, stored in django-celery-beat so admins can change it in admin."""

from django.db import migrations

TASK_NAME = "scheduler.nightly_run"
ENTRY_NAME = "夜間バッチ（受注作成・リマインド）"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Tokyo"
    )
    PeriodicTask.objects.get_or_create(
        name=ENTRY_NAME,
        defaults={
            "task": TASK_NAME,
            "crontab": crontab,
            "enabled": True,
            "description": "Creates due child orders, then runs the later stages (reminders, resumes).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=ENTRY_NAME, task=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduler", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
