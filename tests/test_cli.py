"""The ``propgroup`` command: every refusal is a non-zero exit with the reason, nothing written."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from propgroup.cli import main
from propgroup.config import get_settings
from propgroup.tenancy import service
from tests.conftest import TEMPLATE_PATH


@pytest.fixture
def run(control):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def _slugs(control):
    return {t.slug for t in service.list_tenants(control)}


def test_create_list_suspend_resume_drop(run, control):
    created = run(
        "tenants", "create", "cli_group", "--name", "CLI 集团", "--template", str(TEMPLATE_PATH)
    )
    assert created.exit_code == 0, created.output
    assert "t_cli_group" in created.output
    listed = run("tenants", "list")
    assert "cli_group\tactive\tt_cli_group" in listed.output
    assert run("tenants", "suspend", "cli_group").exit_code == 0
    assert service.get_tenant(control, "cli_group").status == "suspended"
    assert run("tenants", "resume", "cli_group").exit_code == 0
    refused = run("tenants", "drop", "cli_group")
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert "cli_group" in _slugs(control)
    assert run("tenants", "drop", "cli_group", "--yes").exit_code == 0
    assert "cli_group" not in _slugs(control)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["tenants", "create", "Bad Slug", "--name", "x", "--template", str(TEMPLATE_PATH)],
            "slug must be",
        ),
        (
            ["tenants", "create", "public", "--name", "x", "--template", str(TEMPLATE_PATH)],
            "reserved",
        ),
        (
            [
                "tenants",
                "create",
                "okslug",
                "--name",
                "x",
                "--template",
                "tenants/templates/nope.toml",
            ],
            "cannot read",
        ),
        (
            ["tenants", "create", "okslug", "--name", "  ", "--template", str(TEMPLATE_PATH)],
            "1-200 printable",
        ),
        (
            ["tenants", "create", "okslug", "--name", "x" * 201, "--template", str(TEMPLATE_PATH)],
            "1-200 printable",
        ),
        (["tenants", "suspend", "nosuch"], "does not exist"),
    ],
)
def test_bad_input_exits_non_zero_with_the_reason_and_writes_nothing(run, control, args, message):
    before = _slugs(control)
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert _slugs(control) == before


def test_malformed_template_names_the_line(run, control, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('[template]\ncode = "x"\nname = "y"\nversion = 1\n[[departments]\n')
    result = run("tenants", "create", "okslug", "--name", "x", "--template", str(bad))
    assert result.exit_code == 2
    assert "broken.toml" in result.output and "line 5" in result.output
    assert "okslug" not in _slugs(control)


def test_duplicate_slug_exits_non_zero(run, make_tenant):
    tenant = make_tenant()
    result = run("tenants", "create", tenant.slug, "--name", "x", "--template", str(TEMPLATE_PATH))
    assert result.exit_code == 2 and "already exists" in result.output


def test_unreachable_database_is_a_clear_error(run, monkeypatch):
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    get_settings.cache_clear()
    try:
        result = run("tenants", "list")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "cannot reach the database" in result.output


def test_commands_before_db_upgrade_say_so(run, pg_server, monkeypatch):
    from tests.support.databases import throwaway_database

    with throwaway_database(pg_server, prefix="pgempty") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            result = run("tenants", "list")
        finally:
            monkeypatch.undo()
            get_settings.cache_clear()
    assert result.exit_code == 2
    assert "propgroup db upgrade" in result.output


def test_migrate_reports_counts_and_exits_zero_when_all_at_head(run, make_tenant):
    make_tenant()
    result = run("tenants", "migrate", "--jobs", "1")
    assert result.exit_code == 0
    assert "0 failed" in result.output and "already at head" in result.output


def test_demo_load_is_idempotent(run, control):
    first = run("demo", "load")
    assert first.exit_code == 0, first.output
    again = run("demo", "load")
    assert again.exit_code == 0 and "kept as it is" in again.output
    run("tenants", "drop", "demo", "--yes")


def test_migrate_names_the_failed_tenant_and_exits_non_zero(run, make_tenant, control):
    """A schema whose recorded revision was lost is replayed from the start and fails; the
    command says which tenant and exits 1 while the others stay untouched."""
    from sqlalchemy import text

    healthy, broken = make_tenant(), make_tenant()
    with control.begin() as connection:
        connection.execute(text(f'delete from "{broken.schema_name}".alembic_version'))
        connection.execute(
            text("update public.tenants set schema_revision = null where slug = :s"),
            {"s": broken.slug},
        )
    result = run("tenants", "migrate", "--jobs", "1")
    assert result.exit_code == 1
    assert f"FAILED {broken.slug}" in result.output
    assert "1 failed" in result.output
    assert service.get_tenant(control, healthy.slug).last_migration_error is None
    assert "already exists" in service.get_tenant(control, broken.slug).last_migration_error


def test_serve_refuses_a_port_in_use_before_starting_anything(run, tmp_path, monkeypatch):
    """Workers listen with SO_REUSEPORT, which would share a port with a server still running."""
    monkeypatch.setenv("PROPGROUP_INSTANCE", str(tmp_path / "instance"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_code != 0
    assert f"127.0.0.1:{port} is in use" in result.output
    assert not (tmp_path / "instance").exists()
