"""Every 15 minutes: failed mails are tried again (notifications.retry_failed_mails), stored in
django-celery-beat so admins can change or switch it off in admin."""

from django.db import migrations

TASK_NAME = "notifications.retry_failed_mails"
ENTRY_NAME = "送信失敗メールの再試行"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=ENTRY_NAME,
        defaults={
            "task": TASK_NAME,
            "interval": every,
            "enabled": True,
            "description": "Retries failed mails (each at most five times).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=ENTRY_NAME, task=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_mailcampaign"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
