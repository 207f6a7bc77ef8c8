"""A shop with delivery methods and a wrapping fee, as the fee tests share it (issues 11 and 12).

宅配便 by the shop's table (¥550, 北海道 ¥990, free from ¥5,000, islands +¥1,100) is the default;
メール便 (¥220 flat, up to 20 mm and 1 kg, no time slot, no cash on delivery) is assigned
automatically when the items fit; gift wrapping costs ¥330.
"""

from __future__ import annotations

from catalog.models import DeliveryKind, DeliveryMethod, Product
from pricing.models import BillingPolicy, PrefectureShippingFee

WRAPPING_FEE = 330
MAIL_BIN_FEE = 220
PARCEL_FEE = 550


def shop_with_methods(*, wrapping_fee: int = WRAPPING_FEE) -> tuple[DeliveryMethod, DeliveryMethod]:
    policy = BillingPolicy.current()
    policy.shipping_base_fee = PARCEL_FEE
    policy.shipping_free_from = 5000
    policy.remote_island_surcharge = 1100
    policy.gift_wrapping_fee = wrapping_fee
    policy.save()
    PrefectureShippingFee.objects.update_or_create(prefecture="北海道", defaults={"fee": 990})
    parcel = DeliveryMethod.objects.create(
        code="parcel", name="宅配便", kind=DeliveryKind.PARCEL, fee=None, is_default=True, sort_order=1
    )
    mail_bin = DeliveryMethod.objects.create(
        code="mail_bin", name="メール便", kind=DeliveryKind.MAIL_BIN, fee=MAIL_BIN_FEE, max_length_mm=340,
        max_width_mm=250, max_thickness_mm=20, max_weight_g=1000, allows_time_slot=False, allows_cod=False,
        auto_assign=True, sort_order=2,
    )  # fmt: skip
    return parcel, mail_bin


def measure(products, *, thickness_mm: int = 10, weight_g: int = 200) -> None:  # noqa: ANN001
    """Give products a measured package (a pouch 200 × 150 mm of this thickness and weight)."""
    Product.objects.filter(pk__in=[p.pk for p in products]).update(
        package_length_mm=200,
        package_width_mm=150,
        package_thickness_mm=thickness_mm,
        package_weight_g=weight_g,
    )
