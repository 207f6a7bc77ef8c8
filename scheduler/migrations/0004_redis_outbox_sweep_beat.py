"""Every minute: what the outbox still holds (tasks queued while the broker was down, mails whose
delivery never ran) is sent (scheduler.outbox_sweep)."""

from django.db import migrations

TASK_NAME = "scheduler.outbox_sweep"
ENTRY_NAME = "送信待ちの再送（タスク・メール）"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=ENTRY_NAME,
        defaults={
            "task": TASK_NAME,
            "interval": every_minute,
            "enabled": True,
            "description": "Sends outbox tasks left pending while the broker was down, and stuck mails.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=ENTRY_NAME, task=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduler", "0003_verbose_names"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
