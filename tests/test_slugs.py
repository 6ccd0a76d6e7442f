"""Slug rules: no accepted slug can escape its schema (quotes, dots, unicode, the 63-byte limit)."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from propgroup.db import tenant_session
from propgroup.errors import InvalidInput
from propgroup.tenancy import service
from propgroup.tenancy.slugs import RESERVED_SLUGS, schema_for, validate_slug

SAFE = set(string.ascii_lowercase + string.digits + "_")
HOSTILE = [*list("\"'.;-$ \t\n\x00/\\*%"), "ı", "İ", "ａ", "ß", "ǅ", "é", "\u200b", "ﬁ", "K"]


@given(st.text(max_size=80))
def test_any_text_is_refused_or_is_a_plain_identifier(candidate):
    try:
        slug = validate_slug(candidate)
    except InvalidInput:
        return
    schema = schema_for(slug)
    assert set(slug) <= SAFE and slug[0] in string.ascii_lowercase
    assert 3 <= len(slug) <= 40
    assert len(schema.encode()) <= 63  # PostgreSQL truncates identifiers longer than 63 bytes
    assert slug not in RESERVED_SLUGS and not slug.startswith("pg_")


NEAR_MISS = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *string.digits, "_", *HOSTILE]), max_size=45
)


@settings(max_examples=300)
@given(NEAR_MISS)
def test_near_miss_slugs_are_refused_or_need_no_quoting_in_postgres(pg_quote, candidate):
    """Anything accepted is an identifier PostgreSQL would neither quote nor truncate."""
    try:
        slug = validate_slug(candidate)
    except InvalidInput:
        return
    schema = schema_for(slug)
    assert pg_quote(schema) == (schema, len(schema.encode()))
    assert len(schema.encode()) <= 63


@given(
    st.from_regex(r"[a-z][a-z0-9_]{2,30}", fullmatch=True),
    st.sampled_from(HOSTILE),
    st.integers(min_value=0, max_value=31),
)
def test_a_single_hostile_character_anywhere_is_refused(base, bad, position):
    position = min(position, len(base))
    with pytest.raises(InvalidInput):
        validate_slug(base[:position] + bad + base[position:])


@pytest.mark.parametrize(
    "slug",
    [
        "ab",
        "a" * 41,
        "1abc",
        "_abc",
        "Acme",
        "acme-co",
        "acme.co",
        'ac"me',
        "pg_toast",
        "public",
        "tenant",
        "admin",
        "information_schema",
        "",
        None,
        42,
    ],
)
def test_known_bad_slugs_are_refused(slug):
    with pytest.raises(InvalidInput):
        validate_slug(slug)


@pytest.fixture(scope="module")
def pg_quote(control):
    """Ask PostgreSQL itself: (quote_ident(name), octet_length(name))."""
    connection = control.connect()

    def quote(name: str):
        row = connection.execute(
            text("select quote_ident(:n), octet_length(:n)"), {"n": name}
        ).one()
        return tuple(row)

    yield quote
    connection.close()


def test_longest_slug_fits_postgres_identifier_limit():
    slug = "z" * 40
    assert schema_for(slug) == "t_" + slug and len(schema_for(slug)) <= 63


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.from_regex(r"[a-z][a-z0-9_]{2,39}", fullmatch=True))
def test_accepted_slug_lands_in_exactly_its_own_schema(control, template, slug):
    try:
        validate_slug(slug)
    except InvalidInput:
        return
    before = set(inspect(control).get_schema_names())
    if f"t_{slug}" in before:
        return
    tenant = service.provision_tenant(control, slug=slug, name="fuzz", template=template)
    try:
        after = set(inspect(control).get_schema_names())
        assert after - before == {f"t_{slug}"}
        with tenant_session(control, tenant.schema_name) as session:
            assert session.scalar(text("select current_schema()")) == f"t_{slug}"
            assert session.scalar(text("select count(*) from org_units")) == 6
    finally:
        service.drop_tenant(control, slug)
