"""The mails a new shop starts with (Japanese and English); staff rewrite them in admin.

Plain data, read by the migration that creates MailTemplate and by mail_templates_install_defaults.
Events marked off are there to be written and switched on by a shop that wants them.
"""

from __future__ import annotations

_JA_FOOTER = "\nご注文内容はマイページでご確認いただけます。\n{mypage_url}\n\n{shop_name}\n"
_EN_FOOTER = "\nYou can see your order on your my page:\n{mypage_url}\n\n{shop_name}\n"
_JA_ORDER = (
    "受注番号: {order_number}\n受注日: {order_date}\n\n{items}\n\n商品小計: {items_subtotal}\n"
    "送料: {shipping_fee}\n合計（税込）: {total}\nお支払方法: {payment_method}\n"
    "お届け日: {delivery_date} {delivery_time_slot}\n"
)
_EN_ORDER = (
    "Order number: {order_number}\nOrder date: {order_date}\n\n{items}\n\nSubtotal: {items_subtotal}\n"
    "Shipping: {shipping_fee}\nTotal (tax incl.): {total}\nPayment: {payment_method}\n"
    "Delivery: {delivery_date} {delivery_time_slot}\n"
)

# event: (enabled, ja subject, ja body, en subject, en body)
DEFAULT_MAILS: dict[str, tuple[bool, str, str, str, str]] = {
    "received": (
        True,
        "【{shop_name}】ご注文ありがとうございます（受注番号 {order_number}）",
        "{customer_name} 様\n\nご注文を承りました。\n\n" + _JA_ORDER + _JA_FOOTER,
        "[{shop_name}] Thank you for your order ({order_number})",
        "Dear {customer_name},\n\nWe have received your order.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
    "on_hold": (
        False,
        "【{shop_name}】ご注文の確認をしております（受注番号 {order_number}）",
        "{customer_name} 様\n\nご注文内容を確認しております。確認が済み次第ご連絡いたします。\n\n"
        + _JA_ORDER
        + _JA_FOOTER,
        "[{shop_name}] We are checking your order ({order_number})",
        "Dear {customer_name},\n\nWe are checking your order and will be in touch.\n\n"
        + _EN_ORDER
        + _EN_FOOTER,
    ),
    "awaiting_payment": (
        False,
        "【{shop_name}】ご入金をお待ちしております（受注番号 {order_number}）",
        "{customer_name} 様\n\nご入金を確認でき次第、発送の準備をいたします。\n\n" + _JA_ORDER + _JA_FOOTER,
        "[{shop_name}] Awaiting your payment ({order_number})",
        "Dear {customer_name},\n\nWe will prepare your order once your payment arrives.\n\n"
        + _EN_ORDER
        + _EN_FOOTER,
    ),
    "payment_confirmed": (
        True,
        "【{shop_name}】ご入金を確認しました（受注番号 {order_number}）",
        "{customer_name} 様\n\nご入金（{total}）を確認いたしました。発送の準備をいたします。\n\n"
        + _JA_ORDER
        + _JA_FOOTER,
        "[{shop_name}] Payment received ({order_number})",
        "Dear {customer_name},\n\nWe have received your payment of {total}.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
    "ready": (
        False,
        "【{shop_name}】発送の準備をしております（受注番号 {order_number}）",
        "{customer_name} 様\n\nご注文の商品を発送準備中です。\n\n" + _JA_ORDER + _JA_FOOTER,
        "[{shop_name}] Preparing your order ({order_number})",
        "Dear {customer_name},\n\nWe are preparing your order for shipping.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
    "shipped": (
        True,
        "【{shop_name}】商品を発送しました（受注番号 {order_number}）",
        "{customer_name} 様\n\nご注文の商品を{shipped_date}に発送いたしました。\n\n"
        "配送業者: {carrier}\n配送伝票番号: {tracking_number}\n配送状況: {tracking_url}\n\n"
        + _JA_ORDER
        + _JA_FOOTER,
        "[{shop_name}] Your order has shipped ({order_number})",
        "Dear {customer_name},\n\nYour order was shipped on {shipped_date}.\n\n"
        "Carrier: {carrier}\nTracking number: {tracking_number}\nTrack it: {tracking_url}\n\n"
        + _EN_ORDER
        + _EN_FOOTER,
    ),
    "completed": (
        False,
        "【{shop_name}】ご利用ありがとうございました（受注番号 {order_number}）",
        "{customer_name} 様\n\n商品はお手元に届きましたでしょうか。今後ともよろしくお願いいたします。\n"
        + _JA_FOOTER,
        "[{shop_name}] Thank you ({order_number})",
        "Dear {customer_name},\n\nWe hope your order arrived well. Thank you for shopping with us.\n"
        + _EN_FOOTER,
    ),
    "cancelled": (
        True,
        "【{shop_name}】ご注文をキャンセルしました（受注番号 {order_number}）",
        "{customer_name} 様\n\n以下のご注文をキャンセルいたしました。\n\n" + _JA_ORDER + _JA_FOOTER,
        "[{shop_name}] Your order was cancelled ({order_number})",
        "Dear {customer_name},\n\nThe following order has been cancelled.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
    "returned": (
        False,
        "【{shop_name}】返品を承りました（受注番号 {order_number}）",
        "{customer_name} 様\n\n以下のご注文の返品を承りました。\n\n" + _JA_ORDER + _JA_FOOTER,
        "[{shop_name}] Your return was received ({order_number})",
        "Dear {customer_name},\n\nWe have received the return of this order.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
    "refunded": (
        True,
        "【{shop_name}】返金いたしました（受注番号 {order_number}）",
        "{customer_name} 様\n\n以下のご注文の代金（{total}）を返金いたしました。\n\n"
        + _JA_ORDER
        + _JA_FOOTER,
        "[{shop_name}] Your refund ({order_number})",
        "Dear {customer_name},\n\nWe have refunded {total} for this order.\n\n" + _EN_ORDER + _EN_FOOTER,
    ),
}


def default_rows() -> list[dict[str, object]]:
    """One dict per (event, language), the fields of a MailTemplate."""
    rows: list[dict[str, object]] = []
    for event, (enabled, ja_subject, ja_body, en_subject, en_body) in DEFAULT_MAILS.items():
        rows.append(
            {"event": event, "language": "ja", "enabled": enabled, "subject": ja_subject, "body": ja_body}
        )
        rows.append(
            {"event": event, "language": "en", "enabled": enabled, "subject": en_subject, "body": en_body}
        )
    return rows
