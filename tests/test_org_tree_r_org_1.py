"""R-ORG-1: one HQ → regional centres → project branches, departments under any of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from propgroup.db import tenant_session
from propgroup.errors import Conflict, InvalidInput
from propgroup.org import service as org
from propgroup.org.models import OrgUnit


@pytest.fixture
def tree(control, make_tenant):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        hq = org.get_unit_by_code(session, "HQ")
        east = org.create_unit(session, code="EAST", kind="region", name="East", parent=hq)
        west = org.create_unit(session, code="WEST", kind="region", name="West", parent=hq)
        b1 = org.create_unit(session, code="B1", kind="branch", name="B1", parent=east)
        org.create_unit(session, code="B1-FIN", kind="department", name="Finance", parent=b1)
        org.create_unit(session, code="B2", kind="branch", name="B2", parent=west)
        session.commit()
        yield session


def _codes(units):
    return [u.code for u in units]


def test_subtree_and_ancestors_r_org_1(tree):
    east = org.get_unit_by_code(tree, "EAST")
    assert set(_codes(org.subtree(tree, east))) == {"EAST", "B1", "B1-FIN"}
    assert _codes(org.ancestors(tree, org.get_unit_by_code(tree, "B1-FIN"))) == ["HQ", "EAST", "B1"]
    assert org.ancestors(tree, org.get_unit_by_code(tree, "HQ")) == []


def test_second_hq_is_refused_r_org_1(tree):
    with pytest.raises(Conflict, match="already has its HQ"):
        org.create_unit(tree, code="HQ2", kind="hq", name="Another HQ")


@pytest.mark.parametrize(
    ("kind", "parent_code"),
    [
        ("branch", "HQ"),
        ("region", "EAST"),
        ("region", None),
        ("branch", "B1-FIN"),
        ("department", "B1-FIN"),
    ],
)
def test_kinds_nest_only_in_order_r_org_1(tree, kind, parent_code):
    parent = org.get_unit_by_code(tree, parent_code) if parent_code else None
    with pytest.raises(InvalidInput):
        org.create_unit(tree, code="NEW", kind=kind, name="n", parent=parent)
    tree.rollback()
    assert tree.scalar(select(OrgUnit).where(OrgUnit.code == "NEW")) is None


def test_duplicate_unit_code_is_refused(tree):
    with pytest.raises(Conflict, match="taken"):
        org.create_unit(
            tree, code="B1", kind="branch", name="again", parent=org.get_unit_by_code(tree, "WEST")
        )


def test_move_keeps_the_whole_subtree_consistent_r_org_1(tree):
    b1 = org.get_unit_by_code(tree, "B1")
    west = org.get_unit_by_code(tree, "WEST")
    moved = org.move_unit(tree, b1, west)
    tree.commit()
    assert moved.parent_id == west.id
    assert set(_codes(org.subtree(tree, west))) == {"WEST", "B1", "B1-FIN", "B2"}
    assert set(_codes(org.subtree(tree, org.get_unit_by_code(tree, "EAST")))) == {"EAST"}
    # Every path is its parent's path plus its own id, and depth follows the path.
    units = {u.id: u for u in tree.scalars(select(OrgUnit))}
    for unit in units.values():
        expected = (units[unit.parent_id].path if unit.parent_id else "/") + f"{unit.id}/"
        assert unit.path == expected
        assert unit.depth == unit.path.count("/") - 2


def test_move_into_own_subtree_is_refused_as_a_cycle_r_org_1(tree):
    east = org.get_unit_by_code(tree, "EAST")
    b1 = org.get_unit_by_code(tree, "B1")
    with pytest.raises(InvalidInput, match="own subtree"):
        org.move_unit(tree, east, b1)
    with pytest.raises(InvalidInput):
        org.move_unit(tree, b1, org.get_unit_by_code(tree, "B1-FIN"))


def test_move_to_a_wrong_kind_of_parent_is_refused(tree):
    with pytest.raises(InvalidInput, match="cannot sit under"):
        org.move_unit(tree, org.get_unit_by_code(tree, "B1"), org.get_unit_by_code(tree, "HQ"))
