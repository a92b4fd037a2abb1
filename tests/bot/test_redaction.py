"""Personal data is removed before anything is stored: identity codes, phones, e-mails, IBANs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.redaction import hetu_is_valid, iban_is_valid, redact

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SIGNS = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}


def make_hetu(day: dt.date, individual: int, sign: str) -> str:
    digits = f"{day:%d%m}{day.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{CHECK[int(digits) % 31]}"


@st.composite
def valid_hetus(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2099, 12, 31)))
    century = day.year // 100 * 100
    sign = draw(st.sampled_from(SIGNS[century]))
    return make_hetu(day, draw(st.integers(min_value=2, max_value=999)), sign)


@pytest.mark.parametrize(
    "code",
    ["131052-308T", "131052-308t", "010594Y9021", "010594Y9032", "010101A123N", "280264+1235"],
)
def test_real_looking_valid_codes_are_removed(code: str) -> None:
    assert hetu_is_valid(code)
    assert redact(f"hetu {code} ok").text == "hetu [hetu] ok"


@pytest.mark.parametrize(
    "code",
    ["131052-308A", "131052G308T", "320152-308T", "131352-308T", "131052-000T", "131052-3081"],
)
def test_codes_with_a_wrong_check_character_date_or_sign_are_not_identity_codes(code: str) -> None:
    assert not hetu_is_valid(code)
    assert redact(code).kinds == ()


@given(
    valid_hetus(), st.sampled_from(["", "mun hetu on ", "Nimi Matti ", "("]), st.sampled_from(["", " kiitos", ".", ")"])
)
def test_every_valid_code_of_every_century_sign_is_removed(code: str, before: str, after: str) -> None:
    result = redact(before + code + after)
    assert code not in result.text
    assert code.upper() not in result.text.upper()
    assert result.kinds == ("hetu",)


@given(valid_hetus())
def test_a_changed_check_character_makes_a_code_invalid(code: str) -> None:
    wrong = CHECK[(CHECK.index(code[-1]) + 1) % 31]
    assert not hetu_is_valid(code[:-1] + wrong)


@pytest.mark.parametrize(
    "phone",
    [
        "040 123 4567",
        "040-1234567",
        "0401234567",
        "050 765 4321",
        "+358 40 123 4567",
        "+358401234567",
        "09 123 4567",
        "05 123 4567",
        "(09) 1234 567",
        "+46 70 123 45 67",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+1 555 123 4567",
    ],
)
def test_finnish_and_international_phone_numbers_are_removed(phone: str) -> None:
    result = redact(f"soita {phone} kiitos")
    assert result.text == "soita [phone] kiitos"
    assert result.kinds == ("phone",)


@pytest.mark.parametrize(
    "text",
    ["maksoin 6000 euroa", "vuonna 2024", "klo 9-15", "01.02.2024", "112", "116 117", "postinumero 00100", "3 lasta"],
)
def test_amounts_dates_postcodes_and_emergency_numbers_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "iban",
    ["FI21 1234 5600 0007 85", "fi2112345600000785", "DE89 3704 0044 0532 0130 00", "SE45 5000 0000 0583 9825 7466"],
)
def test_valid_ibans_are_removed(iban: str) -> None:
    assert iban_is_valid(iban)
    assert redact(f"tili {iban}").text == "tili [iban]"


def test_an_iban_with_a_wrong_check_is_not_an_iban() -> None:
    assert not iban_is_valid("FI21 1234 5600 0007 86")
    assert not iban_is_valid("FI21 1234 5600 0007")


def test_email_addresses_are_removed() -> None:
    result = redact("laita viestiä matti.meikalainen+tuki@example.fi tai anna@esimerkki.com")
    assert result.text == "laita viestiä [email] tai [email]"
    assert result.kinds == ("email", "email")


def test_several_kinds_in_one_message_are_all_removed_and_listed() -> None:
    result = redact("olen 131052-308T, puh 0401234567, tili FI2112345600000785, matti@example.fi")
    assert result.text == "olen [hetu], puh [phone], tili [iban], [email]"
    assert sorted(result.kinds) == ["email", "hetu", "iban", "phone"]


@given(st.text(max_size=400))
def test_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once.text).text == once.text
