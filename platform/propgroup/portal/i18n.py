"""Languages of the portal (zh_CN by default, en) and the labels of roles and unit kinds.

Babel reads ``zh_CN`` as ``zh_Hans_CN``, so that catalog sits in ``translations/zh_Hans_CN``.
"""

from __future__ import annotations

from pathlib import Path

from flask import has_request_context, session
from flask_babel import lazy_gettext as _l

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "zh_CN"
# Each language is named in itself, so anyone can find their own in the switcher.
LANGUAGES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANGUAGE_KEY = "lang"


def normalise_language(code: str) -> str | None:
    """``zh-CN``/``zh_cn``/``zh_CN`` → ``zh_CN``; ``en`` → ``en``; anything else None."""
    wanted = code.replace("-", "_").lower()
    return next((known for known in LANGUAGES if known.lower() == wanted), None)


def select_locale() -> str:
    """The language chosen in this browser session, else zh_CN (never the Accept-Language)."""
    if has_request_context():
        choice = session.get(LANGUAGE_KEY)
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LOCALE


ROLE_LABELS = {
    "branch_accountant": _l("Branch accountant"),
    "branch_head": _l("Branch head"),
    "cashier": _l("Cashier"),
    "department_head": _l("Department head"),
    "regional_finance": _l("Regional finance"),
    "regional_gm": _l("Regional general manager"),
    "finance_director": _l("Finance director"),
    "group_admin": _l("Group administrator"),
    "auditor": _l("Auditor (read-only)"),
    "partner_client": _l("Partner (API only)"),
}

KIND_LABELS = {
    "hq": _l("Group HQ"),
    "region": _l("Regional centre"),
    "branch": _l("Project branch"),
    "department": _l("Department"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
