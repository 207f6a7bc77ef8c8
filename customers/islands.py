"""Remote islands (離島): is a delivery address on one, from the postal data's municipality.

A table of the municipalities that lie wholly on islands without a road bridge to the main islands
(where carriers charge a surcharge and take longer), and of the towns (大字) of mainland
municipalities that are islands (鳥羽市 菅島町, 酒田市 飛島, …). Pure: no Django; the shop edits the
table here. The city is compared without its 郡 (隠岐郡隠岐の島町 = 隠岐の島町), as Japan Post
writes it in some places and not in others.
"""

from __future__ import annotations

import re

from .postal import postal_lookup

# prefecture -> municipalities wholly on remote islands
REMOTE_ISLAND_MUNICIPALITIES: dict[str, frozenset[str]] = {
    "北海道": frozenset({"利尻町", "利尻富士町", "礼文町", "奥尻町"}),
    "東京都": frozenset(
        {"大島町", "利島村", "新島村", "神津島村", "三宅村", "御蔵島村", "八丈町", "青ヶ島村", "小笠原村"}
    ),
    "新潟県": frozenset({"佐渡市", "粟島浦村"}),
    "島根県": frozenset({"隠岐の島町", "海士町", "西ノ島町", "知夫村"}),
    "広島県": frozenset({"大崎上島町"}),
    "愛媛県": frozenset({"上島町"}),
    "香川県": frozenset({"小豆島町", "土庄町", "直島町"}),
    "長崎県": frozenset({"対馬市", "壱岐市", "五島市", "新上五島町", "小値賀町"}),
    "鹿児島県": frozenset(
        {
            "西之表市",
            "中種子町",
            "南種子町",
            "屋久島町",
            "三島村",
            "十島村",
            "奄美市",
            "大和村",
            "宇検村",
            "瀬戸内町",
            "龍郷町",
            "喜界町",
            "徳之島町",
            "天城町",
            "伊仙町",
            "和泊町",
            "知名町",
            "与論町",
        }
    ),  # fmt: skip
    "沖縄県": frozenset(
        {
            "宮古島市",
            "石垣市",
            "久米島町",
            "竹富町",
            "与那国町",
            "多良間村",
            "伊是名村",
            "伊平屋村",
            "渡嘉敷村",
            "座間味村",
            "粟国村",
            "渡名喜村",
            "南大東村",
            "北大東村",
            "伊江村",
        }
    ),  # fmt: skip
}

# (prefecture, municipality) -> towns of it that are islands (the town name as the postal data has it)
REMOTE_ISLAND_TOWNS: dict[tuple[str, str], frozenset[str]] = {
    ("北海道", "羽幌町"): frozenset({"天売", "焼尻"}),
    ("山形県", "酒田市"): frozenset({"飛島"}),
    ("三重県", "鳥羽市"): frozenset({"答志町", "神島町", "菅島町", "坂手町"}),
    ("石川県", "輪島市"): frozenset({"海士町"}),  # 舳倉島
    ("宮城県", "塩竈市"): frozenset({"浦戸寒風沢", "浦戸石浜", "浦戸桂島", "浦戸野々島"}),
    ("福岡県", "福岡市西区"): frozenset({"玄界島", "小呂島"}),
}

_COUNTY = re.compile(r"^.+?郡(?=.+[町村]$)")


def municipality(city: str) -> str:
    """The city without its county: 隠岐郡隠岐の島町 -> 隠岐の島町; 郡上市 stays 郡上市."""
    return _COUNTY.sub("", city.strip())


def is_remote_island(*, prefecture: str, city: str, town: str = "") -> bool:
    name = municipality(city)
    if name in REMOTE_ISLAND_MUNICIPALITIES.get(prefecture, ()):
        return True
    towns = REMOTE_ISLAND_TOWNS.get((prefecture, name), ())
    return any(town.startswith(t) for t in towns)


def postal_is_remote_island(postal_code: str) -> bool | None:
    """Whether the area a postal code names is a remote island; None when the code does not exist."""
    area = postal_lookup(postal_code)
    if area is None:
        return None
    return is_remote_island(prefecture=area.prefecture, city=area.city, town=area.town)
