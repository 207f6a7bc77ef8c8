"""The carriers a Japanese shop starts with (plain data; shops add their own in admin).

`{number}` in a pattern is where the tracking number (配送伝票番号) goes.
"""

DEFAULT_CARRIERS = [
    (
        "yamato",
        "ヤマト運輸",
        "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={number}",
        10,
    ),
    ("sagawa", "佐川急便", "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}", 20),
    (
        "japanpost",
        "日本郵便",
        "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}&locale=ja",
        30,
    ),
]
