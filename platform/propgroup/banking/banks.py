"""A bank's name as the group records it, so one number at one bank is found as a duplicate
however the bank was typed (R-BNK-1): "工商银行", "工行", "ICBC" and "中国工商银行股份有限公司"
are all 中国工商银行. Major PRC banks by their usual short names and English abbreviations; any
other bank keeps its name, without spaces and the company-form suffix."""

from __future__ import annotations

import re

_CANONICAL = {
    "中国工商银行": ("工商银行", "工行", "ICBC"),
    "中国农业银行": ("农业银行", "农行", "ABC"),
    "中国银行": ("中行", "BOC", "BANKOFCHINA"),
    "中国建设银行": ("建设银行", "建行", "CCB"),
    "交通银行": ("交行", "BOCOM", "BANKOFCOMMUNICATIONS"),
    "中国邮政储蓄银行": ("邮政储蓄银行", "邮储银行", "邮储", "PSBC"),
    "招商银行": ("招行", "CMB", "CMBCHINA"),
    "中信银行": ("CITIC", "CNCB", "中信"),
    "中国光大银行": ("光大银行", "光大", "CEB"),
    "华夏银行": ("HXB",),
    "中国民生银行": ("民生银行", "民生", "CMBC"),
    "广发银行": ("广东发展银行", "CGB"),
    "平安银行": ("PAB", "PINGAN"),
    "兴业银行": ("兴业", "CIB"),
    "上海浦东发展银行": ("浦发银行", "浦发", "SPDB"),
    "浙商银行": ("CZB",),
    "渤海银行": ("CBHB",),
    "恒丰银行": ("HFB",),
    "北京银行": ("BOB",),
    "上海银行": ("BOS",),
    "江苏银行": ("JSB",),
    "宁波银行": ("NBCB",),
    "杭州银行": ("HZB",),
    "国家开发银行": ("国开行", "CDB"),
    "中国进出口银行": ("进出口银行", "EXIMBANK"),
    "中国农业发展银行": ("农业发展银行", "农发行", "ADBC"),
}
_ALIASES = {alias: name for name, aliases in _CANONICAL.items() for alias in (name, *aliases)}
# Company forms and separators that do not make another bank.
_NOISE = re.compile(r"[\s·・.()（）-]+|股份有限公司$|有限责任公司$|有限公司$|总行$")


def canonical(name: str) -> str:
    """The bank's recorded name; unknown banks as typed, without noise."""
    plain = name.strip()
    for _ in range(2):  # "…股份有限公司总行"
        plain = _NOISE.sub("", plain)
    plain = plain.upper() if plain.isascii() else plain
    return _ALIASES.get(plain, plain) or name.strip()
