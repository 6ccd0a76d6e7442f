"""Templates and group files: TOML checked before anything is written; the demo group is whole."""

from __future__ import annotations

from collections import Counter

import pytest

from propgroup.config import PROJECT_HOME
from propgroup.errors import InvalidInput
from propgroup.identity.roles import ROLES
from propgroup.tenancy.templates import load_group, load_template, unit_codes

DEMO = PROJECT_HOME / "tenants" / "demo.toml"


def test_demo_group_has_the_seed_tree_and_one_user_per_role_r_org_1_r_org_2():
    group = load_group(DEMO)
    kinds = Counter(unit["kind"] for unit in group["units"])
    assert kinds == {"hq": 1, "region": 2, "branch": 5}
    departments = {d["name"] for d in group["template"]["departments"]}
    assert departments == {"财务部", "行政部", "物管部", "工程部", "客服部"}
    held = sorted(role["role"] for user in group["users"] for role in user["roles"])
    assert held == sorted(ROLES)


def test_demo_cashier_and_accountant_are_different_people_r_org_3():
    group = load_group(DEMO)
    holders = {r["role"]: u["login"] for u in group["users"] for r in u["roles"]}
    assert holders["cashier"] != holders["branch_accountant"]


def test_department_codes_of_every_unit_can_be_referenced():
    codes = unit_codes(load_group(DEMO))
    assert {"EAST-FIN", "SH-XTD-CS", "HQ-ADM"} <= codes


def test_malformed_toml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[template]\ncode = "x"\nname = \n')
    with pytest.raises(InvalidInput, match=r"bad\.toml: .*line 3"):
        load_template(bad)


def test_template_with_wrong_fields_is_refused_with_the_path(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text('[template]\ncode = "ok-code"\nname = "n"\nversion = "one"\nsurprise = 1\n')
    with pytest.raises(InvalidInput) as caught:
        load_template(bad)
    assert "template.version" in caught.value.message
    assert "template.surprise" in caught.value.message


def test_group_with_unknown_parent_and_role_unit_is_refused(tmp_path):
    template = tmp_path / "tpl.toml"
    template.write_text('[template]\ncode = "tpl"\nname = "T"\nversion = 1\n')
    group = tmp_path / "g.toml"
    group.write_text(
        '[tenant]\nslug = "g"\nname = "G"\ntemplate = "tpl.toml"\n'
        '[[units]]\ncode = "HQ"\nkind = "hq"\nname = "HQ"\n'
        '[[units]]\ncode = "R"\nkind = "region"\nname = "R"\nparent = "NOPE"\n'
    )
    with pytest.raises(InvalidInput, match=r"units\[1\]\.parent: unknown unit code"):
        load_group(group)
    group.write_text(
        '[tenant]\nslug = "g"\nname = "G"\ntemplate = "tpl.toml"\ndemo_password = "0123456789"\n'
        '[[units]]\ncode = "HQ"\nkind = "hq"\nname = "HQ"\n'
        '[[users]]\nlogin = "abc"\ndisplay_name = "A"\nemail = "a@b.test"\n'
        'roles = [{ role = "cashier", unit = "XX" }]\n'
    )
    with pytest.raises(InvalidInput, match=r"users\[0\]\.roles\[0\]\.unit"):
        load_group(group)


def test_missing_template_file_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        load_template(tmp_path / "missing.toml")
