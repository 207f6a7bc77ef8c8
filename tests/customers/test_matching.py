"""The matchers: each key on a table of the ways people write the same thing, and the 2-of-4 rule."""

import pytest

from customers.matching import (
    KeyIndex,
    PersonKeys,
    address_key,
    email_key,
    is_similar,
    matching_fields,
    name_key,
    phone_key,
    postal_key,
)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("山田 花子", "山田花子", True),
        ("山田　花子", "山田 花子", True),  # full-width space
        ("ヤマダ ハナコ", "ﾔﾏﾀﾞ ﾊﾅｺ", True),  # half-width kana
        ("やまだ はなこ", "ヤマダハナコ", True),  # hiragana
        ("ＹＡＭＡＤＡ Hanako", "yamada hanako", True),
        ("山田 花子", "山田 華子", False),
        ("ヤマダ ハナコ", "ヤマダ ハルコ", False),
    ],
)
def test_name_key(a, b, same) -> None:  # noqa: ANN001
    assert (name_key(a) == name_key(b)) is same


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("090-1234-5678", "09012345678"),
        ("09012345678", "09012345678"),
        ("０９０－１２３４－５６７８", "09012345678"),
        ("090(1234)5678", "09012345678"),
        ("０９０（１２３４）５６７８", "09012345678"),
        ("+81 90-1234-5678", "09012345678"),
        ("03-1234-5678", "0312345678"),
        ("1234", ""),  # too short to identify anyone
        ("", ""),
    ],
)
def test_phone_key(typed, key) -> None:  # noqa: ANN001
    assert phone_key(typed) == key


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("100-0001", "1000001"),
        ("1000001", "1000001"),
        ("〒100-0001", "1000001"),
        ("１００－０００１", "1000001"),
        ("100", ""),
    ],
)
def test_postal_key(typed, key) -> None:  # noqa: ANN001
    assert postal_key(typed) == key


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("100-0001", "千代田1-1"), ("1000001", "千代田１－１"), True),
        (("100-0001", "千代田1-1 101号室"), ("100-0001", "千代田1‐1　101号室"), True),
        (("100-0001", "千代田1-1"), ("100-0002", "千代田1-1"), False),
        (("100-0001", "千代田1-1"), ("100-0001", "千代田1-2"), False),
    ],
)
def test_address_key(a, b, same) -> None:  # noqa: ANN001
    assert (address_key(*a) == address_key(*b)) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Hanako@Example.com", "hanako@example.com", True),
        (" ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "hanako@example.com", True),
        ("a@x.jp", "b@x.jp", False),
    ],
)
def test_email_key(a, b, same) -> None:  # noqa: ANN001
    assert (email_key(a) == email_key(b)) is same


BLACKLISTED = PersonKeys.of(
    name="山田 花子",
    phone="090-1234-5678",
    postal_code="100-0001",
    address_line="千代田1-1",
    email="hanako@example.com",
)


@pytest.mark.parametrize(
    ("other", "fields", "similar"),
    [
        (dict(name="ﾔﾏﾀﾞ ﾊﾅｺ", phone="0312345678"), [], False),  # a kana name is not the kanji one
        (dict(name="山田花子", phone="０９０（１２３４）５６７８"), ["name", "phone"], True),
        (
            dict(
                name="佐藤 一郎",
                postal_code="1000001",
                address_line="千代田１－１",
                email="HANAKO@example.com",
            ),
            ["address", "email"],
            True,
        ),
        (dict(name="山田 花子"), ["name"], False),  # one field is not enough
        (dict(name="佐藤 一郎", phone="03-0000-0000", email="sato@example.com"), [], False),
    ],
)
def test_similar_on_two_of_four(other, fields, similar) -> None:  # noqa: ANN001
    keys = PersonKeys.of(**other)
    assert matching_fields(BLACKLISTED, keys) == fields
    assert is_similar(BLACKLISTED, keys) is similar


def test_a_repeater_rule_may_ask_for_chosen_fields_only() -> None:
    keys = PersonKeys.of(name="山田 花子", phone="09012345678")
    assert is_similar(BLACKLISTED, keys, min_fields=1, fields=["email"]) is False
    assert is_similar(BLACKLISTED, keys, min_fields=1, fields=["phone"]) is True


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("髙橋 一郎", "高橋一郎", True),  # 旧字体 / 異体字
        ("齋藤 花子", "斎藤 花子", True),
        ("渡邊 健", "渡辺 健", True),
        ("渡邉 健", "ﾜﾀﾅﾍﾞ ｹﾝ", False),  # kanji and kana are not one another
        ("山﨑 太郎", "山崎太郎", True),
        ("濱田 優", "浜田　優", True),
        ("齋藤 花子", "斉藤 花子", False),  # 斉 is another character, not an old form of 斎
        ("ﾜﾀﾅﾍﾞ ｹﾝ", "わたなべ けん", True),
        ("ＷＡＴＡＮＡＢＥ　Ｋｅｎ", "watanabe ken", True),
    ],
)
def test_name_key_old_forms_and_widths(a, b, same) -> None:  # noqa: ANN001
    assert (name_key(a) == name_key(b)) is same


def _keys(**fields: str) -> PersonKeys:
    return PersonKeys.of(**fields)


BLACKLIST = [
    (1, _keys(name="山田 花子", phone="090-1111-2222", postal_code="100-0001", address_line="千代田1-1")),
    (1, _keys(email="hanako@example.com")),  # the same person's other record (their login)
    (2, _keys(name="髙橋 一郎", phone="03-9999-0000", email="taro@example.jp")),
]


@pytest.mark.parametrize(
    ("records", "exclude", "expected"),
    [
        # width, kana and hyphen variants of two of person 1's keys
        ([_keys(name="ﾔﾏﾀﾞ ﾊﾅｺ", phone="０９０（１１１１）２２２２")], None, {}),  # kana name ≠ kanji name: one field
        ([_keys(name="山田　花子", phone="０９０－１１１１－２２２２")], None, {1: ["name", "phone"]}),
        ([_keys(name="別人", email="HANAKO@EXAMPLE.COM ", postal_code="〒1000001", address_line="千代田１－１")],
         None, {1: ["address", "email"]}),
        # fields spread over the person's own records (profile + address) still count once each
        ([_keys(name="高橋一郎"), _keys(phone="+81 3 9999 0000")], None, {2: ["name", "phone"]}),
        ([_keys(name="山田 花子")], None, {}),  # one field is not enough
        ([_keys(name="山田 花子", phone="090-1111-2222")], 1, {}),  # the person themself
        ([_keys(name="", phone="", email="")], None, {}),  # empty keys never agree
    ],
)  # fmt: skip
def test_key_index_matches(records, exclude, expected) -> None:  # noqa: ANN001
    index = KeyIndex()
    for person_id, keys in BLACKLIST:
        index.add(person_id, keys)
    assert index.matches(records, exclude=exclude) == expected


def test_key_index_fields_and_threshold() -> None:
    index = KeyIndex()
    index.add(7, _keys(name="佐藤 次郎", phone="080-0000-1111", email="jiro@example.com"))
    record = [_keys(name="サトウ ジロウ", phone="08000001111", email="jiro@example.com")]
    assert index.matches(record) == {7: ["phone", "email"]}
    assert index.matches(record, fields=["name", "email"]) == {}
    assert index.matches(record, fields=["email"], min_fields=1) == {7: ["email"]}
    assert not KeyIndex()
    assert index
