"""R-ORG-2/3: roles are held at units; cashier and accountant are never one person over one unit."""

from __future__ import annotations

import pytest

from propgroup.db import tenant_session
from propgroup.errors import Conflict, InvalidInput
from propgroup.identity import service as identity
from propgroup.org import service as org


@pytest.fixture
def session(control, make_tenant):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        hq = org.get_unit_by_code(session, "HQ")
        r1 = org.create_unit(session, code="R1", kind="region", name="R1", parent=hq)
        org.create_unit(session, code="B1", kind="branch", name="B1", parent=r1)
        org.create_unit(session, code="B2", kind="branch", name="B2", parent=r1)
        yield session


def _user(session, login):
    return identity.create_user(
        session,
        login=login,
        display_name=login,
        email=f"{login}@x.test",
        password="long-password-1",
    )


def test_cashier_cannot_be_accountant_of_the_same_unit_r_org_3(session):
    user = _user(session, "li")
    identity.assign_role(session, user, "branch_accountant", org.get_unit_by_code(session, "B1"))
    with pytest.raises(Conflict, match="R-ORG-3"):
        identity.assign_role(session, user, "cashier", org.get_unit_by_code(session, "B1"))


def test_accountant_of_a_region_cannot_be_cashier_of_its_branch_r_org_3(session):
    user = _user(session, "wang")
    identity.assign_role(session, user, "branch_accountant", org.get_unit_by_code(session, "R1"))
    with pytest.raises(Conflict, match="segregation"):
        identity.assign_role(session, user, "cashier", org.get_unit_by_code(session, "B2"))


def test_cashier_and_accountant_of_separate_branches_is_allowed_r_org_3(session):
    user = _user(session, "zhao")
    identity.assign_role(session, user, "cashier", org.get_unit_by_code(session, "B1"))
    identity.assign_role(session, user, "branch_accountant", org.get_unit_by_code(session, "B2"))
    held = {(role, unit.code) for role, unit in identity.roles_of(session, user)}
    assert held == {("cashier", "B1"), ("branch_accountant", "B2")}


@pytest.mark.parametrize(
    ("held", "asked"),
    [
        (("cashier", "B1"), ("regional_finance", "R1")),
        (("regional_finance", "R1"), ("cashier", "B2")),
        (("finance_director", "HQ"), ("cashier", "B1")),
        (("cashier", "R1"), ("branch_accountant", "B1")),
    ],
)
def test_who_keeps_cash_does_not_keep_or_sign_off_the_books_of_the_same_units_r_org_3(
    session, held, asked
):
    user = _user(session, "ma")
    identity.assign_role(session, user, held[0], org.get_unit_by_code(session, held[1]))
    with pytest.raises(Conflict) as refused:
        identity.assign_role(session, user, asked[0], org.get_unit_by_code(session, asked[1]))
    assert refused.value.code == "segregation_of_duties"


def test_cashier_and_regional_finance_of_another_region_is_allowed_r_org_3(session):
    user = _user(session, "he")
    hq = org.get_unit_by_code(session, "HQ")
    r2 = org.create_unit(session, code="R2", kind="region", name="R2", parent=hq)
    identity.assign_role(session, user, "cashier", org.get_unit_by_code(session, "B1"))
    identity.assign_role(session, user, "regional_finance", r2)


def test_unknown_role_and_duplicate_login_are_refused(session):
    user = _user(session, "sun")
    with pytest.raises(InvalidInput):
        identity.assign_role(session, user, "emperor", org.get_unit_by_code(session, "B1"))
    with pytest.raises(Conflict):
        _user(session, "sun")


def test_passwords_are_stored_as_argon2id_hashes(session):
    user = _user(session, "zhou")
    assert user.password_hash.startswith("$argon2id$")
    assert "long-password-1" not in user.password_hash
