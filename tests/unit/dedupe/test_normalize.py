"""Normalizers: exact values per normalizer, placeholders, and properties over arbitrary Unicode."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.dedupe.birth_dates import normalize_birth_date
from tasks.dedupe.normalize import (
    apply_email_provider_rules,
    map_distinct,
    name_key,
    normalize_address,
    normalize_device,
    normalize_email,
    normalize_emails_with_rules,
    normalize_name,
    normalize_phone,
    normalize_phones,
    normalize_place,
)

TODAY = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("張三", "张三"),
        ("张 三", "张三"),
        (" 張　三 ", "张三"),  # ideographic space
        ("ＡＢＣ", "abc"),
        ("José", "jose"),
        ("  José   Pérez ", "jose perez"),
        ("François-Xavier O'Neil", "francois xavier oneil"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("MÜLLER, Jörg", "muller jorg"),
        ("Søren Ødegård", "soren odegard"),  # letters no accent makes: normalize.LATIN_LETTERS
        ("Łukasz Weiß", "lukasz weiss"),
        ("Æthelred Đorđević", "aethelred dordevic"),
        ("歐陽娜娜", "欧阳娜娜"),
        ("未知", None),
        ("N/A", None),
        ("test", None),
        ("先生", None),
        ("  ", None),
        ("123", None),
        ("...", None),
        (None, None),
    ],
)
def test_normalize_name(raw: str | None, expected: str | None) -> None:
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "sanzhang"),
        ("張三", "sanzhang"),
        ("Zhang San", "sanzhang"),
        ("san zhang", "sanzhang"),
        ("José Pérez", "joseperez"),
        ("Pérez José", "joseperez"),
        ("欧阳娜娜", "nanaouyang"),
        ("未知", None),
        (None, None),
    ],
)
def test_name_key(raw: str | None, expected: str | None) -> None:
    assert name_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("北京市", "北京"),
        ("北京", "北京"),
        ("廣州市", "广州"),
        ("广东省", "广东"),
        ("广西壮族自治区", "广西"),
        ("香港特别行政区", "香港"),
        ("沙市", "沙市"),  # a one-character stem is not a city
        ("ＢＥＩＪＩＮＧ City", "beijing"),
        ("São Paulo", "sao paulo"),
        ("未知", None),
        ("-", None),
    ],
)
def test_normalize_place(raw: str | None, expected: str | None) -> None:
    assert normalize_place(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 Main Street, Apt. 5", "12 main st apt 5"),
        ("１２ Ｍａｉｎ Ｓｔ．", "12 main st"),
        ("12 main st", "12 main st"),
        ("3584 Melrose Place", "3584 melrose pl"),  # the USPS suffixes: one spelling each
        ("7 Kings Court, West", "7 kings ct w"),
        ("Flat #3, 5 Rue de l'Église", "flat no 3 5 rue de leglise"),
        ("北京市 朝阳区 建國路 88號", "北京市朝阳区建国路88号"),
        ("无", None),
    ],
)
def test_normalize_address(raw: str | None, expected: str | None) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("1990-01-02", "reject", date(1990, 1, 2)),
        ("1990/1/2", "reject", date(1990, 1, 2)),
        ("1990.1.2", "reject", date(1990, 1, 2)),
        ("19900102", "reject", date(1990, 1, 2)),
        ("1990年1月2日", "reject", date(1990, 1, 2)),
        ("１９９０年１月２日", "reject", date(1990, 1, 2)),
        ("1990-01-02T08:30:00", "reject", date(1990, 1, 2)),
        ("02.01.1990", "reject", date(1990, 1, 2)),  # dotted: day first
        ("25/12/1990", "reject", date(1990, 12, 25)),  # unambiguous whatever the setting
        ("12/25/1990", "reject", date(1990, 12, 25)),
        ("02/01/1990", "reject", None),  # ambiguous: rejected unless configured
        ("02/01/1990", "dmy", date(1990, 1, 2)),
        ("02/01/1990", "mdy", date(1990, 2, 1)),
        ("02-01-1990", "dmy", date(1990, 1, 2)),
        ("1990-02-30", "reject", None),  # no such day
        ("1970-01-01", "reject", None),  # placeholders
        ("1900-01-01", "reject", None),
        ("1850-06-01", "reject", date(1850, 6, 1)),  # historical records keep their dates
        ("0999-06-01", "reject", None),  # before the plausibility window
        ("2030-01-01", "reject", None),  # after today
        ("33000", "reject", None),  # Excel serials are not read
        ("02/01/90", "dmy", None),  # two-digit years are not read
        ("未知", "reject", None),
        (date(1990, 1, 2), "reject", date(1990, 1, 2)),
        (date(1970, 1, 1), "reject", None),
    ],
)
def test_normalize_birth_date(raw: str | date, order: str, expected: date | None) -> None:
    assert normalize_birth_date(raw, order, latest=TODAY) == expected


def test_email_provider_rules_apply_only_where_configured() -> None:
    assert apply_email_provider_rules("john.doe+games@googlemail.com", ()) == "john.doe+games@googlemail.com"
    assert apply_email_provider_rules("john.doe+games@googlemail.com", ("gmail",)) == "johndoe@gmail.com"
    assert (
        apply_email_provider_rules("john.doe+games@hotmail.com", ("gmail",)) == "john.doe+games@hotmail.com"
    )
    assert apply_email_provider_rules("john.doe+games@hotmail.com", ("outlook",)) == "john.doe@hotmail.com"
    assert apply_email_provider_rules("+x@gmail.com", ("gmail",)) is None
    column = pl.Series(
        "email", [" J.Doe+a@Gmail.com ", "noreply@shop.cn", "test@test.com", None, "a.b@qq.com"]
    )
    assert normalize_emails_with_rules(column).to_list() == [
        "j.doe+a@gmail.com",
        None,
        None,
        None,
        "a.b@qq.com",
    ]
    assert normalize_emails_with_rules(column, providers=("gmail",)).to_list() == [
        "jdoe@gmail.com",
        None,
        None,
        None,
        "a.b@qq.com",
    ]


@pytest.mark.parametrize(
    "value", ["ＺＨＡＮＧ＠ＱＱ．ＣＯＭ", "zhang＠qq.com", "zhang@qq。com", " Zhang@QQ.com\u3000"]
)
def test_an_email_typed_with_full_width_forms_is_the_same_email(value: str) -> None:
    assert normalize_email(value) == "zhang@qq.com"
    assert normalize_emails_with_rules(pl.Series([value])).to_list() == ["zhang@qq.com"]


@pytest.mark.parametrize(
    "value",
    [
        "13800138000;13900139000",
        "13800138000/13900139000",
        "13800138000,13900139000",
        "010-12345678;13900139000",
    ],
)
def test_a_field_of_two_phone_numbers_is_unusable_whatever_separates_them(value: str) -> None:
    assert normalize_phone(value) is None
    assert normalize_phones(pl.Series([value])).to_list() == [None]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 650 253 0000 ext. 123", "+16502530000"),
        ("010-12345678;ext=12", "+861012345678"),
        ("13800138000 转 8", "+8613800138000"),
    ],
)
def test_a_phone_with_an_extension_is_the_number(value: str, expected: str) -> None:
    assert normalize_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "zhang\u200b@qq.com",
        "\ufeffzhang@qq.com",
        "zhang\u00a0@qq.com",
        "zhang @qq.com",
        "zh\u2060ang@qq.\u00adcom",
        "zhang\x1f@qq.com",
    ],
)
def test_an_email_with_invisible_characters_or_spaces_inside_is_the_email(value: str) -> None:
    assert normalize_email(value) == "zhang@qq.com"
    assert normalize_emails_with_rules(pl.Series([value])).to_list() == ["zhang@qq.com"]


@pytest.mark.parametrize(
    "value", ["+86\ufeff 156-9137-6467", "1569137\u200b6467", "\u2060 15691376467", "156\u00ad9137 6467"]
)
def test_a_phone_with_invisible_characters_is_the_number(value: str) -> None:
    assert normalize_phone(value) == "+8615691376467"
    assert normalize_phones(pl.Series([value])).to_list() == ["+8615691376467"]


PLACEHOLDERS = [
    "13800000000",
    "12345678901",
    "00000000000",
    "test@test.com",
    "noreply@x.com",
    "未知",
    "无",
    "N/A",
]


@pytest.mark.parametrize("value", [*PLACEHOLDERS, "null", "none", "-", "123456"])
def test_placeholders_are_never_match_keys(value: str) -> None:
    assert normalize_email(value) is None
    assert normalize_emails_with_rules(pl.Series([value])).to_list() == [None]
    assert normalize_phone(value) is None
    assert normalize_phones(pl.Series([value])).to_list() == [None]
    assert normalize_name(value) is None
    assert name_key(value) is None
    assert normalize_place(value) is None
    assert normalize_address(value) is None
    assert normalize_birth_date(value, "dmy", latest=TODAY) is None


@pytest.mark.parametrize(
    "value", ["198abcd0983", "138OO138OOO", "1800FLOWERS", "1-800-FLOWERS", "q1861234ll5xx678"]
)
def test_a_phone_whose_digits_are_not_all_written_is_no_phone(value: str) -> None:
    # phonenumbers alone reads the letters as keypad digits: 198abcd0983 -> +8619822230983, someone's number
    assert normalize_phone(value) is None
    assert normalize_phones(pl.Series([value])).to_list() == [None]


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("手机 13800138001", "+8613800138001"),  # a label before the number
        ("13800138001 (m)", "+8613800138001"),  # and after it
        ("13800138001 QQ", "+8613800138001"),
        ("13800138001 ext. 5", "+8613800138001"),  # extensions: E.164 has none
        ("+86 10 6552 9988 x12", "+861065529988"),
        ("13800138001 ｘ12", "+8613800138001"),
        ("tel:+86-10-65529988;ext=12", "+861065529988"),
        ("01065529988 extension 12", "+861065529988"),
        ("138 0013 8001转8", "+8613800138001"),
        ("010-65529988分机123", "+861065529988"),
        ("+7 495 123-45-67 доб. 12", "+74951234567"),
        ("１３８００１３８００１", "+8613800138001"),  # full-width digits
        ("+44 (0) 20 7946 0958", "+442079460958"),
    ],
)
def test_labels_and_extensions_around_the_digits_are_read_past(value: str, e164: str) -> None:
    assert normalize_phone(value) == e164
    assert normalize_phones(pl.Series([value])).to_list() == [e164]


def test_configured_placeholders_are_never_match_keys() -> None:
    assert normalize_phone("13912340000") == "+8613912340000"
    assert normalize_phone("13912340000", extra_placeholders=frozenset({"+8613912340000"})) is None
    assert normalize_device("ABC-1", frozenset({"abc-1"})) is None


def test_map_distinct_calls_once_per_distinct_value() -> None:
    calls: list[str] = []

    def spy(value: str) -> str | None:
        calls.append(value)
        return normalize_name(value)

    column = pl.Series("full_name", ["張三", None, "張三", "José", "张三"])
    assert map_distinct(column, spy).to_list() == ["张三", None, "张三", "jose", "张三"]
    assert sorted(calls) == sorted(["張三", "José", "张三"])


TEXT_NORMALIZERS = [normalize_name, normalize_place, normalize_address]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_text_normalizers_never_raise_and_are_idempotent(value: str) -> None:
    for normalize in TEXT_NORMALIZERS:
        once = normalize(value)
        assert once is None or isinstance(once, str)
        assert normalize(once) == once, normalize.__name__
    key = name_key(value)
    assert key is None or (key == key.strip() and " " not in key)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_contact_normalizers_never_raise_and_are_idempotent(value: str) -> None:
    email = normalize_email(value)
    assert email is None or normalize_email(email) == email
    phone = normalize_phone(value)
    assert phone is None or normalize_phone(phone) == phone
    device = normalize_device(value)
    assert device is None or normalize_device(device) == device
    for order in ("dmy", "mdy", "reject"):
        born = normalize_birth_date(value, order, latest=TODAY)  # type: ignore[arg-type]
        assert born is None or normalize_birth_date(born.isoformat(), order, latest=TODAY) == born


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20))
def test_column_versions_agree_with_the_scalar_ones(values: list[str | None]) -> None:
    column = pl.Series("v", values, dtype=pl.String)
    assert map_distinct(column, normalize_name).to_list() == [normalize_name(v) for v in values]
    assert normalize_phones(column).to_list() == [normalize_phone(v) for v in values]
