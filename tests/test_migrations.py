"""Both Alembic trees: one head each, migrations equal the models, reversible, and the tenant
runner upgrades every schema while reporting (not hiding, not spreading) one tenant's failure."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text, update

from propgroup.approvals.models import PolicyVersion
from propgroup.approvals.policy import parse_policy, rule_for
from propgroup.approvals.service import current_policy, install_policy
from propgroup.audit.models import AuditEvent
from propgroup.budgets.categories import tree_order
from propgroup.budgets.models import BudgetCategory
from propgroup.db import (
    PublicBase,
    TenantBase,
    set_local_search_path,
    tenant_session,
    translated,
    unqualified,
)
from propgroup.tenancy import service
from propgroup.tenancy.isolation import create_walled_schema, drop_walled_schema
from propgroup.tenancy.migrate import (
    TREES,
    migrate_tenants,
    script_directory,
    single_head,
    upgrade_tenant_schema,
)
from propgroup.tenancy.models import Tenant
from tests.support.revisions import EXTRA_REVISION, write_extra_revision


def _not_version_table(name, type_, _parents):
    return not (type_ == "table" and name == "alembic_version")


@pytest.mark.parametrize("tree", TREES)
def test_each_tree_has_exactly_one_head(tree):
    assert len(script_directory(tree).get_heads()) == 1


def _diff(connection, schema, metadata):
    bound = translated(connection, schema)
    set_local_search_path(bound, schema)
    context = MigrationContext.configure(
        bound, opts={"compare_type": True, "include_name": _not_version_table}
    )
    return compare_metadata(context, unqualified(metadata))


def test_control_plane_migrations_match_models(control):
    with control.begin() as connection:
        assert _diff(connection, "public", PublicBase.metadata) == []


def _tenant_diff(connection, schema):
    return _diff(connection, schema, TenantBase.metadata)


def test_tenant_migrations_from_empty_match_models(control):
    """Schemas upgraded migration by migration equal the models that provisioning creates from."""
    with control.begin() as connection:
        create_walled_schema(connection, "t_mig_check")
        revision = upgrade_tenant_schema(connection, "t_mig_check", script_directory("tenant"))
        assert revision == single_head(script_directory("tenant"))
        diff = _tenant_diff(connection, "t_mig_check")
        drop_walled_schema(connection, "t_mig_check")
    assert diff == []


def test_provisioned_schema_matches_models(control, make_tenant):
    tenant = make_tenant()
    with control.begin() as connection:
        assert _tenant_diff(connection, tenant.schema_name) == []


def _downgrade(connection, schema, revision):
    """``schema`` taken back down to ``revision`` (``base``: before the first migration)."""
    script = script_directory("tenant")
    bound = translated(connection, schema)
    set_local_search_path(bound, schema)
    context = MigrationContext.configure(
        bound,
        opts={
            "version_table_schema": schema,
            "fn": lambda rev, _ctx: script._downgrade_revs(revision, rev),
        },
    )
    with Operations.context(context):
        context.run_migrations()


def test_tenant_migrations_are_reversible(control):
    """Upgrade, downgrade to base (nothing left but the version table), upgrade again."""
    script = script_directory("tenant")
    with control.begin() as connection:
        create_walled_schema(connection, "t_mig_down")
        upgrade_tenant_schema(connection, "t_mig_down", script)
        _downgrade(connection, "t_mig_down", "base")
        left = set(inspect(connection).get_table_names(schema="t_mig_down"))
        assert left == {"alembic_version"}
        assert upgrade_tenant_schema(connection, "t_mig_down", script) == single_head(script)
        drop_walled_schema(connection, "t_mig_down")


def _columns(engine, schema):
    return {c["name"] for c in inspect(engine).get_columns("org_units", schema=schema)}


def test_migrate_upgrades_nineteen_and_reports_the_broken_one(fresh_control, make_tenant, tmp_path):
    extra = write_extra_revision(tmp_path / "versions")
    tenants = [make_tenant(engine=fresh_control) for _ in range(20)]
    broken = tenants[7]
    # Break one schema the way drift does: a hand-made column the migration also wants to add.
    with fresh_control.begin() as connection:
        connection.execute(
            text(f'alter table "{broken.schema_name}".org_units add column note int')
        )

    report = migrate_tenants(
        fresh_control.url.render_as_string(hide_password=False), jobs=2, extra_locations=[extra]
    )

    assert [o.slug for o in report.failed] == [broken.slug]
    assert "already exists" in report.failed[0].error
    assert sorted(o.slug for o in report.upgraded) == sorted(
        t.slug for t in tenants if t is not broken
    )
    registry = {t.slug: t for t in service.list_tenants(fresh_control)}
    for tenant in tenants:
        if tenant is broken:
            assert registry[tenant.slug].schema_revision != EXTRA_REVISION
            assert "already exists" in registry[tenant.slug].last_migration_error
            indexes = {
                i["name"]
                for i in inspect(fresh_control).get_indexes("org_units", schema=tenant.schema_name)
            }
            assert "ix_org_units_note" not in indexes  # its transaction rolled back whole
        else:
            assert registry[tenant.slug].schema_revision == EXTRA_REVISION
            assert registry[tenant.slug].last_migration_error is None
            assert "note" in _columns(fresh_control, tenant.schema_name)

    again = migrate_tenants(
        fresh_control.url.render_as_string(hide_password=False), jobs=1, extra_locations=[extra]
    )
    assert again.at_head == 19 and not again.upgraded
    assert [o.slug for o in again.failed] == [broken.slug]


def test_migrate_new_columns_are_usable_by_the_tenant_role(fresh_control, make_tenant, tmp_path):
    """Default privileges grant tables a migration adds later, with no grant in the script."""
    extra = write_extra_revision(tmp_path / "versions")
    tenant = make_tenant(engine=fresh_control)
    migrate_tenants(
        fresh_control.url.render_as_string(hide_password=False), jobs=1, extra_locations=[extra]
    )
    from propgroup.db import tenant_session

    with tenant_session(fresh_control, tenant.schema_name) as session:
        session.execute(text("update org_units set note = 'checked' where code = 'HQ'"))
        assert session.scalar(text("select note from org_units where code = 'HQ'")) == "checked"


def _schema_at(connection, schema, revision):
    """A new walled schema migrated up to ``revision``, and the connection acting in it."""
    create_walled_schema(connection, schema)
    upgrade_tenant_schema(connection, schema, script_directory("tenant"), destination=revision)
    bound = translated(connection, schema)
    set_local_search_path(bound, schema)
    return bound


def _add_hq(bound):
    bound.execute(
        text(
            "insert into org_units (id, code, kind, name, path, depth, active) "
            "values (1, 'HQ', 'hq', 'HQ', '/1/', 0, true)"
        )
    )


def test_t0008_gives_existing_lines_their_request_s_current_revision(control):
    """Before t0008 a resubmission raised the revision and kept the one set of lines: after it,
    those lines are the current revision's, so they still show (R-APR-4)."""
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_lines", "t0007")
        _add_hq(bound)
        bound.execute(
            text(
                "insert into users (login, display_name, email, password_hash, active, "
                "session_epoch) values ('u', 'U', 'u@x.test', 'x', true, 0)"
            )
        )
        request_id = bound.scalar(
            text(
                "insert into approval_requests (request_type, unit_id, requester_id, title, "
                "payee, currency, total_amount, status, revision, budget_overrun) "
                "select 'expense_claim', o.id, u.id, 't', 'p', 'CNY', 10, 'in_approval', 2, "
                "false from org_units o, users u returning id"
            )
        )
        bound.execute(
            text(
                "insert into approval_request_lines (request_id, category, description, amount) "
                "values (:id, 'c', 'd', 10)"
            ),
            {"id": request_id},
        )
        upgrade_tenant_schema(connection, "t_mig_lines", script_directory("tenant"))
        set_local_search_path(bound, "t_mig_lines")
        revisions = bound.scalars(text("select revision from approval_request_lines")).all()
        drop_walled_schema(connection, "t_mig_lines")
    assert revisions == [2]


T0009_POLICY = {
    "overrun_step": {"role": "finance_director", "level": "hq", "department": None},
    "payer": {"role": "cashier", "level": "unit", "department": None},
    "step_working_days": 2,
    "rules": [
        {
            "request_types": ["expense_claim"],
            "unit_kind": "branch",
            "above": "0.00",
            "up_to": "5000.00",
            "steps": [{"role": "branch_accountant", "level": "unit", "department": None}],
        },
        {
            "request_types": ["expense_claim"],
            "unit_kind": "branch",
            "above": "5000.00",
            "up_to": None,
            "steps": [
                {"role": "branch_accountant", "level": "unit", "department": None},
                {"role": "department_head", "level": "region", "department": "FIN"},
            ],
        },
    ],
}


def test_t0009_gives_existing_tenants_their_timezone_and_steps_their_origin(control):
    """Groups so far are in Asia/Shanghai. A step learns the policy step it was resolved from (the
    rule for its revision's total, or the overrun step); a step of a revision without lines of its
    own (from before t0008) cannot tell and keeps NULL, so its unit stays put when units move."""
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_steps", "t0008")
        bound.execute(
            text(
                "insert into org_units (id, parent_id, code, kind, name, path, depth, active) "
                "values (1, null, 'HQ', 'hq', 'HQ', '/1/', 0, true), "
                "(2, 1, 'R', 'region', 'R', '/1/2/', 1, true), "
                "(3, 2, 'R-FIN', 'department', 'F', '/1/2/3/', 2, true), "
                "(4, 2, 'B', 'branch', 'B', '/1/2/4/', 2, true)"
            )
        )
        bound.execute(
            text(
                "insert into users (id, login, display_name, email, password_hash, active, "
                "session_epoch) values (1, 'u', 'U', 'u@x.test', 'x', true, 0)"
            )
        )
        bound.execute(
            text(
                "insert into approval_policies (id, version, document) "
                "values (1, 1, cast(:document as jsonb))"
            ),
            {"document": json.dumps(T0009_POLICY)},
        )
        bound.execute(
            text(
                "insert into approval_requests (id, request_type, unit_id, requester_id, title, "
                "payee, currency, total_amount, status, revision, current_step, "
                "policy_version_id, budget_overrun) values (1, 'expense_claim', 4, 1, 't', 'p', "
                "'CNY', 6000, 'in_approval', 2, 1, 1, true)"
            )
        )
        bound.execute(
            text(
                "insert into approval_request_lines (request_id, revision, category, "
                "description, amount) values (1, 2, 'c', 'd', 6000)"
            )
        )
        bound.execute(
            text(
                "insert into approval_steps (request_id, revision, seq, role, unit_id, reason, "
                "status) values (1, 1, 1, 'branch_accountant', 4, null, 'rejected'), "
                "(1, 2, 1, 'branch_accountant', 4, null, 'pending'), "
                "(1, 2, 2, 'department_head', 3, null, 'pending'), "
                "(1, 2, 3, 'finance_director', 1, 'budget_overrun', 'pending')"
            )
        )
        upgrade_tenant_schema(connection, "t_mig_steps", script_directory("tenant"))
        set_local_search_path(bound, "t_mig_steps")
        origins = bound.execute(
            text("select revision, seq, level, department from approval_steps order by id")
        ).all()
        timezones = bound.scalars(text("select timezone from tenant_settings")).all()
        drop_walled_schema(connection, "t_mig_steps")
    assert [tuple(row) for row in origins] == [
        (1, 1, None, None),
        (2, 1, "unit", None),
        (2, 2, "region", "FIN"),
        (2, 3, "hq", None),
    ]
    assert timezones == ["Asia/Shanghai"]


def test_t0011_keeps_plans_annual_and_takes_medium_term_ones_beside_them(control):
    """Every plan before t0011 is annual; after it a medium-term plan of the same unit, year and
    kind fits beside it. Going back down drops the medium-term plans and keeps the rest."""
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_horizon", "t0010")
        _add_hq(bound)
        plan = "insert into budget_plans (unit_id, fiscal_year, plan_kind{}) values (1, 2031, 'profit'{})"
        bound.execute(text(plan.format("", "")))
        upgrade_tenant_schema(connection, "t_mig_horizon", script_directory("tenant"))
        set_local_search_path(bound, "t_mig_horizon")
        kept = bound.scalars(text("select horizon from budget_plans")).all()
        bound.execute(text(plan.format(", horizon", ", 'medium_term'")))
        _downgrade(connection, "t_mig_horizon", "t0010")
        set_local_search_path(bound, "t_mig_horizon")
        left = bound.execute(text("select fiscal_year, plan_kind from budget_plans")).all()
        columns = {
            c["name"] for c in inspect(connection).get_columns("budget_plans", "t_mig_horizon")
        }
        drop_walled_schema(connection, "t_mig_horizon")
    assert kept == ["annual"]
    assert [tuple(row) for row in left] == [(2031, "profit")] and "horizon" not in columns


def test_t0014_gives_existing_imports_their_unit_months_and_takes_reversed_ones_back_down(
    control,
):
    """An import from before t0014 holds the unit-months of its rows, as new ones do (R-BUD-5);
    after it a reversed file may come in again, and going back down, where an import is never
    reversed, drops the reversed imports so one sha256 per file holds again."""
    statements = [
        "insert into budget_categories (id, code, name, plan_kind, side, path, depth, is_leaf)"
        " values (1, 'ADM', 'adm', 'expense', 'expense', '/1/', 0, true)",
        "insert into budget_actual_imports (id, filename, sha256, row_count, total)"
        " values (1, 'a.csv', 'aa', 3, 6)",
        "insert into budget_actuals (unit_id, category_id, fiscal_year, month, amount, source,"
        " import_id) values (1, 1, 2031, 3, 1, 'ledger', 1), (1, 1, 2031, 3, 2, 'ledger', 1),"
        " (1, 1, 2031, 4, 3, 'ledger', 1), (1, 1, 2031, 5, 9, 'income', null)",
    ]
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_ledger", "t0013")
        _add_hq(bound)
        for statement in statements:
            bound.execute(text(statement))
        upgrade_tenant_schema(connection, "t_mig_ledger", script_directory("tenant"))
        set_local_search_path(bound, "t_mig_ledger")
        months = bound.execute(
            text("select import_id, unit_id, fiscal_year, month from budget_ledger_months")
        ).all()
        bound.execute(text("update budget_actual_imports set reversed_at = now() where id = 1"))
        bound.execute(
            text(
                "insert into budget_actual_imports (id, filename, sha256, row_count, total)"
                " values (2, 'a.csv', 'aa', 3, 6)"
            )
        )
        _downgrade(connection, "t_mig_ledger", "t0013")
        set_local_search_path(bound, "t_mig_ledger")
        left = bound.scalars(text("select id from budget_actual_imports")).all()
        tables = set(inspect(connection).get_table_names(schema="t_mig_ledger"))
        drop_walled_schema(connection, "t_mig_ledger")
    assert sorted(tuple(row) for row in months) == [(1, 1, 2031, 3), (1, 1, 2031, 4)]
    assert left == [2] and "budget_ledger_months" not in tables


def _before_budgets(template):
    """The template as groups were provisioned from before budgets: no chart, no plan rules."""
    old = copy.deepcopy(template)
    old["budgets"]["categories"] = []
    old["approvals"]["rules"] = [
        rule for rule in old["approvals"]["rules"] if "budget_plan" not in rule["request_types"]
    ]
    return old


def test_migrate_completes_a_group_from_before_budgets_once(fresh_control, template):
    """A group provisioned before t0010 has empty budget tables and no ``budget_plan`` rules:
    ``tenants migrate`` gives it the template's chart and rules (the next policy version, both
    audited), leaves a group with its own chart alone, and adds nothing a second time, nor the
    rules a group admin has since taken out."""
    old = service.provision_tenant(
        fresh_control, slug="before_budgets", name="Old", template=_before_budgets(template)
    )
    current = service.provision_tenant(
        fresh_control, slug="with_budgets", name="New", template=template
    )
    with fresh_control.begin() as connection:
        for tenant in (old, current):
            _downgrade(connection, tenant.schema_name, "t0010")
        connection.execute(update(Tenant).values(schema_revision="t0010"))
    report = migrate_tenants(fresh_control.url.render_as_string(hide_password=False), jobs=1)
    assert not report.failed
    notes = {outcome.slug: outcome.notes for outcome in report.upgraded}
    # Coming back from t0010, t0012 writes the national schedule as it was then: the classes the
    # template has gained since (bank_account_file) come from the template, to both.
    later_class = "added the bank_account_file retention class from commercial-property-cn@1"
    assert notes == {
        "before_budgets": (
            "added the chart of budget categories from commercial-property-cn@1",
            later_class,
            "added the budget_plan approval rules from commercial-property-cn@1",
        ),
        "with_budgets": (later_class,),
    }
    with tenant_session(fresh_control, old.schema_name) as session:
        chart = session.scalars(select(BudgetCategory).order_by(tree_order(BudgetCategory.path)))
        by_id = {c.id: c.code for c in session.scalars(select(BudgetCategory))}
        assert [(c.code, by_id.get(c.parent_id)) for c in chart] == [
            (spec["code"], spec["parent"]) for spec in template["budgets"]["categories"]
        ]
        policy = parse_policy(current_policy(session).document)
        expected = rule_for(template["approvals"], "budget_plan", "region", Decimal("1"))
        assert rule_for(policy, "budget_plan", "region", Decimal("1"))["steps"] == expected["steps"]
        assert rule_for(policy, "expense_claim", "branch", Decimal("1"))  # the group's own stay
        actions = session.scalars(select(AuditEvent.action)).all()
        assert {"budgets.chart_installed", "approvals.policy.installed"} <= set(actions)
        assert service.complete_group_data(session, template) == []
        without = {**current_policy(session).document}
        without["rules"] = [r for r in without["rules"] if "budget_plan" not in r["request_types"]]
        install_policy(session, without, note="we plan on paper")
        assert service.complete_group_data(session, template) == []
        assert session.scalar(select(func.count()).select_from(PolicyVersion)) == 3
        session.rollback()


def test_t0012_gives_existing_tenants_the_national_retention_schedule(control):
    """A group from before archives gets the schedule of the national table (the one its template
    would give) and governance-mode locks; downgrading removes it all again."""
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_arc", "t0010")
        upgrade_tenant_schema(connection, "t_mig_arc", script_directory("tenant"))
        set_local_search_path(bound, "t_mig_arc")
        rules = {
            code: (years, permanent, counted_from)
            for code, years, permanent, counted_from in bound.execute(
                text("select class_code, years, permanent, counted_from from archive_retention")
            )
        }
        modes = bound.scalars(text("select archive_lock_mode from tenant_settings")).all()
        drop_walled_schema(connection, "t_mig_arc")
    assert len(rules) == 16
    assert rules["original_voucher"] == (30, False, "fiscal_year")
    assert rules["asset_card"] == (5, False, "disposal")
    assert rules["annual_report"] == (None, True, "fiscal_year")
    assert modes == ["governance"]


def test_t0013_gives_existing_items_the_grams_their_titles_are_searched_by(control):
    """Items catalogued before t0013 get the same grams as ones filed after it (models'
    title_grams), so the search finds them; downgrading drops the column and indexes."""
    from propgroup.archives.models import title_grams

    titles = ["记账凭证 2019年 VAT第3册", "A", "固定资产卡片"]
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_grams", "t0012")
        _add_hq(bound)
        for title in titles:
            bound.execute(
                text(
                    "insert into archive_items (class_code, unit_id, fiscal_year, title, status)"
                    " values ('journal', 1, 2019, :title, 'kept')"
                ),
                {"title": title},
            )
        upgrade_tenant_schema(connection, "t_mig_grams", script_directory("tenant"), "t0013")
        set_local_search_path(bound, "t_mig_grams")
        grams = dict(bound.execute(text("select title, title_grams from archive_items")).all())
        _downgrade(connection, "t_mig_grams", "t0012")
        columns = {
            c["name"] for c in inspect(connection).get_columns("archive_items", "t_mig_grams")
        }
        drop_walled_schema(connection, "t_mig_grams")
    assert {title: sorted(g) for title, g in grams.items()} == {t: title_grams(t) for t in titles}
    assert "title_grams" not in columns


def test_t0022_lists_the_items_already_due_and_downgrading_marks_them_due_again(control):
    """Items the sweep marked due before t0022 stay due: kept, on an open line of one list dated
    the last sweep the audit trail records, and the sweep's index carries the ids. Downgrading
    marks them due again."""
    with control.begin() as connection:
        bound = _schema_at(connection, "t_mig_due", "t0021")
        _add_hq(bound)
        bound.execute(
            text(
                "insert into archive_items (id, class_code, unit_id, fiscal_year, title, due_on,"
                " status) overriding system value values"
                " (1, 'journal', 1, 2000, 'due', '2021-01-01', 'due'),"
                " (2, 'journal', 1, 2000, 'kept', '2021-01-01', 'kept'),"
                " (3, 'journal', 1, 2000, 'to_destroy', '2021-01-01', 'to_destroy')"
            )
        )
        bound.execute(
            text(
                "insert into audit_events (occurred_at, actor_kind, actor_name, action,"
                " entity_type, after, prev_hash, hash) values"
                " (now(), 'system', 'system', 'archives.retention_swept', 'archive_items',"
                " '{\"day\": \"2025-01-02\", \"due\": 1}', 'genesis', 'first')"
            )
        )
        upgrade_tenant_schema(connection, "t_mig_due", script_directory("tenant"), "t0022")
        set_local_search_path(bound, "t_mig_due")
        lists = bound.execute(text("select id, swept_on, found from archive_appraisal_lists")).all()
        lines = bound.execute(
            text("select list_id, item_id, due_on, settled_at from archive_appraisal_list_items")
        ).all()
        stored = dict(bound.execute(text("select id, status from archive_items")).all())
        sweep_index = text("select pg_get_indexdef('ix_archive_items_due_kept'::regclass)")
        covering = bound.scalar(sweep_index)
        _downgrade(connection, "t_mig_due", "t0021")
        set_local_search_path(bound, "t_mig_due")
        after_downgrade = dict(bound.execute(text("select id, status from archive_items")).all())
        plain = bound.scalar(sweep_index)
        drop_walled_schema(connection, "t_mig_due")
    [(list_id, swept_on, found)] = lists
    assert (swept_on.isoformat(), found) == ("2025-01-02", 1)
    assert [(line.list_id, line.item_id, line.settled_at) for line in lines] == [(list_id, 1, None)]
    assert lines[0].due_on.isoformat() == "2021-01-01"
    assert stored == {1: "kept", 2: "kept", 3: "to_destroy"}
    assert after_downgrade == {1: "due", 2: "kept", 3: "to_destroy"}
    assert "INCLUDE (id)" in covering and "INCLUDE" not in plain  # the sweep reads no row
