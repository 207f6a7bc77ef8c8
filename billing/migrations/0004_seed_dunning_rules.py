"""The default dunning schedule: retry 1, 3, 5 and 7 days after the first failure; warn before the last."""

from django.db import migrations

DEFAULT_RULES = [(1, 1, False), (2, 3, False), (3, 5, False), (4, 7, True)]


def seed(apps, schema_editor):
    DunningRule = apps.get_model("billing", "DunningRule")
    for retry, days, email_before in DEFAULT_RULES:
        DunningRule.objects.get_or_create(
            retry=retry, defaults={"days_after_failure": days, "email_before": email_before}
        )


def unseed(apps, schema_editor):
    apps.get_model("billing", "DunningRule").objects.filter(
        retry__in=[r for r, _, _ in DEFAULT_RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_payments_dunning_webhooks")]

    operations = [migrations.RunPython(seed, unseed)]
