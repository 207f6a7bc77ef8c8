# Coupons, points, the pricing policy and shipping fees moved to the pricing app. Their tables stay
# where they are (pricing's models keep db_table billing_*): billing only forgets them in its state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0006_verbose_names'),
        ('pricing', '0001_initial'),
        ('orders', '0003_alter_order_coupon'),
        ('subscriptions', '0005_alter_subscription_coupon'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CouponRedemption'),
                migrations.DeleteModel(name='PointEntry'),
                migrations.DeleteModel(name='PointAccount'),
                migrations.DeleteModel(name='Coupon'),
                migrations.DeleteModel(name='BillingPolicy'),
                migrations.DeleteModel(name='CodFee'),
                migrations.DeleteModel(name='PrefectureShippingFee'),
            ],
            database_operations=[],
        ),
    ]
