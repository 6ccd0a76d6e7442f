"""Amounts in Chinese capital numerals (人民币大写), as printed vouchers carry them (R-APR-8).

Follows the People's Bank payment-settlement rules: a zero inside the figure is written 零 once
per run of zeros; 整 closes an amount without 分; 元 takes 零 when 角 is zero but 分 is not.
"""

from __future__ import annotations

from decimal import Decimal

from propgroup.errors import InvalidInput

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万亿")


def _group(value: int) -> str:
    """0-9999 in capitals, with 零 for inner zeros (never leading or trailing)."""
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = value // 10**position % 10
        if digit == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + DIGITS[digit] + SMALL_UNITS[position]
            zero = False
    return out


def _integer(value: int) -> str:
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    out, pending_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _group(group) + GROUP_UNITS[index]
        pending_zero = False
    return out


def amount_in_words(amount: Decimal) -> str:
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount >= Decimal(10) ** 16:
        raise InvalidInput(f"{amount} cannot be written in capitals", code="bad_amount")
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "人民币零元整"
    out = "人民币" + (_integer(yuan) + "元" if yuan else "")
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    return out + (DIGITS[fen] + "分" if fen else "整")


def accepted_forms(amount: Decimal) -> set[str]:
    """Every spelling the settlement rules allow for ``amount``, without the 人民币 prefix.

    Besides the canonical one: 零 may follow 元 when the 元 digit is zero and 角 is not
    (壹仟陆佰捌拾元零叁角贰分), and 整 may be left off after 角 (伍角 for 0.50).
    """
    canonical = amount_in_words(amount).removeprefix("人民币")
    forms = {canonical}
    cents = int(amount * 100)
    yuan, jiao = cents // 100, cents // 10 % 10
    if yuan and yuan % 10 == 0 and jiao:
        forms.add(canonical.replace("元", "元零", 1))
    forms |= {form.removesuffix("整") for form in forms if form.endswith("角整")}
    return forms


def words_match(amount: Decimal, words: str) -> bool:
    """Upper- and lower-case amounts agree (R-APR-8); the 人民币 prefix is optional on paper."""
    return words.strip().removeprefix("人民币") in accepted_forms(amount)
