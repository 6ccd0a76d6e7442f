"""Plans through Excel (issue 5 §7): a version's template and back, lossless (hypothesis over
amounts, owners and notes), edits in Excel come back as exactly those edits, every bad cell named
by row and column with nothing written, a file of another version refused, the authorization of
the version itself; and plan vs actual as a workbook equal to the JSON figures to the cent."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from propgroup.budgets import actuals, ledger, plan_workbook
from propgroup.budgets import service as budgets
from propgroup.budgets.figures_workbook import ALERTS
from propgroup.budgets.plan_workbook import NET_LABEL, TOTAL_LABEL
from propgroup.budgets.sheets import MAX_COLUMNS, XLSX, saved
from propgroup.db import tenant_session
from propgroup.errors import InvalidInput, TooLarge
from propgroup.money import CENT, MAX_AMOUNT
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.budgets import DIRECTOR, approved_plan, lines, person, sent_plan
from tests.support.groups import provision_demo
from tests.support.sheets import crafted, peak_bytes

YEAR = 2045
ACCOUNTANT = "li.kuaiji"  # branch accountant at SH-XTD
OUTSIDER = "su.staff"  # department head at SZ-NS, outside SH-XTD and EAST
ADM_LEAVES = [
    "ADM-OFFICE",
    "ADM-TRAVEL",
    "ADM-ENTERTAIN",
    "ADM-COMM",
    "ADM-TRAINING",
    "ADM-VEHICLE",
    "ADM-BANK",
]
SCOPES = ["budgets:read", "budgets:write", "budgets:admin", "approvals:read", "approvals:write"]


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control, "bud_xlsx", "预算表", people={OUTSIDER: [("department_head", "SZ-NS")]}
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def draft(db, spec, *, unit="SH-XTD", by=ACCOUNTANT, kind="expense", year=YEAR):
    version = budgets.open_plan(
        db,
        person(db, by),
        unit_id=org.get_unit_by_code(db, unit).id,
        fiscal_year=year,
        plan_kind=kind,
    )
    budgets.write_lines(db, person(db, by), version.id, spec)
    return version


def download(db, version, by=ACCOUNTANT) -> bytes:
    return plan_workbook.plan_workbook(db, person(db, by), version.id)[1]


def upload(db, version, data, by=ACCOUNTANT):
    return plan_workbook.read_workbook(db, person(db, by), version.id, data)


def sheet_of(data, data_only=False):
    return load_workbook(io.BytesIO(data), data_only=data_only).active


def rows_of(sheet) -> dict[str, int]:
    """The row of each category code (and of the bottom row's label) in column A."""
    return {cell.value: cell.row for cell in sheet["A"] if cell.row > 7}


def edited(data, changes) -> bytes:
    """The workbook with cells changed as someone in Excel would: {"F9": 150, ...}."""
    book = load_workbook(io.BytesIO(data))
    for ref, value in changes.items():
        book.active[ref] = value
    return saved(book)


def months(*values):
    return [Decimal(v) for v in values]


STARTING = [
    {
        "category": "ADM-OFFICE",
        "amounts": ["100.00"] * 12,
        "owner_department": "SH-XTD-FIN",
        "note": "纸张、耗材",
    },
    {"category": "ADM-TRAVEL", "amounts": ["50.00"] * 12, "owner_login": "wang.xiangmu"},
    {"category": "ADM-COMM", "amounts": {"1": "10.00"}},
]


# --- the template ---------------------------------------------------------------------------


def test_r_bud_1_template_names_its_version_and_unlocks_only_what_staff_fill_in(db):
    version = draft(db, STARTING)
    sheet = sheet_of(download(db, version))
    identity = [sheet.cell(row, 2).value for row in range(1, 6)]
    assert identity == ["SH-XTD", YEAR, "expense", 1, version.id]
    assert [sheet.cell(7, c).value for c in (1, 5, 16, 17, 21, 22)] == [
        "科目编码 Category",
        "1月",
        "12月",
        "一季度 Q1",
        "全年 Year",
        "备注 Note",
    ]
    rows = rows_of(sheet)
    heading, office, bottom = rows["ADM"], rows["ADM-OFFICE"], rows[TOTAL_LABEL]
    assert [sheet.cell(office, c).value for c in (2, 3, 4, 5, 22)] == [
        "办公费",
        "SH-XTD-FIN",
        None,
        100,
        "纸张、耗材",
    ]
    assert sheet.cell(office, 5).number_format == "#,##0.00"
    assert sheet[f"Q{office}"].value == f"=SUM(E{office}:G{office})"
    assert sheet[f"U{office}"].value == f"=SUM(E{office}:P{office})"
    assert sheet[f"E{heading}"].value == f"=SUM(E{office}:E{bottom - 1})"
    assert sheet[f"E{bottom}"].value == f"=SUM(E{heading})"
    assert sheet.protection.sheet
    assert all(not sheet.cell(office, c).protection.locked for c in (3, 4, 5, 16, 22))
    locked = [(office, 1), (office, 2), (office, 17), (office, 21), (heading, 5), (1, 2), (5, 2)]
    assert all(sheet.cell(r, c).protection.locked for r, c in locked)
    # Every leaf of the chart has a row to fill in; a category without a line is left empty.
    assert [sheet.cell(rows[code], 5).value for code in ADM_LEAVES[-3:]] == [None] * 3


def test_r_bud_1_a_profit_plan_ends_with_income_less_spending(db):
    version = draft(
        db, lines({"REV-FEE": "1200", "COST-LABOR": "600"}, "SH-XTD-FIN"), kind="profit"
    )
    data = download(db, version)
    sheet = sheet_of(data)
    rows = rows_of(sheet)
    bottom = rows[NET_LABEL]
    assert sheet[f"E{bottom}"].value == f"=SUM(E{rows['REV']})-SUM(E{rows['COST']})"
    before = budgets.lines_of(db, version.id)
    upload(db, version, data)
    assert budgets.lines_of(db, version.id) == before


# --- lossless round trips -------------------------------------------------------------------

amounts = st.one_of(
    st.decimals(0, 100_000, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(0, MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False),
)
owners = st.sampled_from([{"owner_department": "SH-XTD-FIN"}, {"owner_login": "wang.xiangmu"}, {}])
notes = st.none() | st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30)
plans = st.dictionaries(
    st.sampled_from(ADM_LEAVES),
    st.tuples(st.lists(amounts, min_size=12, max_size=12), owners, notes),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans)
def test_r_bud_1_download_then_upload_unchanged_is_lossless_to_the_cent(db, plan):
    savepoint = db.begin_nested()
    try:
        spec = [
            {"category": code, "amounts": values, "note": note, **owner}
            for code, (values, owner, note) in plan.items()
        ]
        version = draft(db, spec)
        before = budgets.lines_of(db, version.id)
        upload(db, version, download(db, version))
        assert budgets.lines_of(db, version.id) == before
    finally:
        savepoint.rollback()


def started(db):
    """The starting draft, its template, and the row of each category in the template."""
    version = draft(db, STARTING)
    data = download(db, version)
    return version, data, rows_of(sheet_of(data))


def test_r_bud_1_edits_made_in_excel_come_back_as_exactly_those_edits(db):
    version, data, rows = started(db)
    office, travel, comm = rows["ADM-OFFICE"], rows["ADM-TRAVEL"], rows["ADM-COMM"]
    training, heading, bottom = rows["ADM-TRAINING"], rows["ADM"], rows[TOTAL_LABEL]
    cleared = {f"{col}{travel}": None for col in "CDEFGHIJKLMNOPV"}
    changes = {
        f"F{office}": 150,  # a number typed in
        f"G{office}": "1,234.50",  # text with a thousands separator
        f"H{office}": 0.1 + 0.2,  # a float Excel computed
        f"V{office}": "纸张",
        f"D{comm}": "li.kuaiji",
        f"E{training}": 99.99,  # a new line in an empty row
        f"C{training}": "SH-XTD-ADM",
        # derived cells are recomputed, whatever they hold
        f"Q{office}": 1,
        f"U{office}": 2,
        f"E{heading}": 777,
        f"E{bottom}": 3,
        **cleared,  # the travel line emptied: gone
    }
    upload(db, version, edited(data, changes))
    after = {line["category"]: line for line in budgets.lines_of(db, version.id)}
    assert sorted(after) == ["ADM-COMM", "ADM-OFFICE", "ADM-TRAINING"]
    assert after["ADM-OFFICE"]["amounts"] == months("100", "150", "1234.50", "0.30", *["100"] * 8)
    assert (after["ADM-OFFICE"]["owner_department"], after["ADM-OFFICE"]["note"]) == (
        "SH-XTD-FIN",
        "纸张",
    )
    assert after["ADM-COMM"]["owner_login"] == "li.kuaiji"
    assert after["ADM-COMM"]["amounts"] == months("10", *["0"] * 11)
    assert after["ADM-TRAINING"]["amounts"] == months("99.99", *["0"] * 11)
    assert after["ADM-TRAINING"]["owner_department"] == "SH-XTD-ADM"


def test_r_bud_1_notes_stay_text_even_when_they_look_like_formulas(db):
    spec = [{"category": "ADM-OFFICE", "amounts": {"1": "1"}, "note": '=HYPERLINK("x")'}]
    version = draft(db, spec)
    data = download(db, version)
    sheet = sheet_of(data)
    assert sheet[f"V{rows_of(sheet)['ADM-OFFICE']}"].data_type == "s"
    upload(db, version, data)
    assert budgets.lines_of(db, version.id)[0]["note"] == '=HYPERLINK("x")'


# --- bad input ----------------------------------------------------------------------------


def test_bad_cells_are_named_by_row_and_column_and_nothing_is_written(db):
    version, data, rows = started(db)
    office, travel, entertain = rows["ADM-OFFICE"], rows["ADM-TRAVEL"], rows["ADM-ENTERTAIN"]
    comm, training = rows["ADM-COMM"], rows["ADM-TRAINING"]
    changes = {
        f"A{travel}": "NOPE",  # unknown category
        f"F{office}": "abc",  # not a number
        f"G{office}": 1.234,  # a float finer than a cent
        f"H{office}": "1.001",  # text with 3 decimals
        f"I{office}": -5,  # negative
        f"A{entertain}": "ADM-OFFICE",  # the same category twice
        f"E{entertain}": 1,
        f"C{comm}": "SZ-NS-FIN",  # a department of another unit
        f"D{training}": "nobody",  # nobody of that login at the unit
        f"E{training}": 1,
    }
    before = budgets.lines_of(db, version.id)
    with pytest.raises(InvalidInput) as refused:
        upload(db, version, edited(data, changes))
    assert refused.value.code == "invalid_lines"
    assert set(refused.value.errors) == {
        f"row {travel}, column A",
        f"row {office}, column F",
        f"row {office}, column G",
        f"row {office}, column H",
        f"row {office}, column I",
        f"row {entertain}, column A",
        f"row {comm}, column C",
        f"row {training}, column D",
    }
    assert "more than 2 decimals" in refused.value.errors[f"row {office}, column G"]
    assert budgets.lines_of(db, version.id) == before


def test_a_file_of_another_version_or_unit_is_refused(db):
    mine = draft(db, STARTING, by=DIRECTOR)
    theirs = draft(db, lines({"ADM-OFFICE": "12"}, "SH-LJZ-FIN"), unit="SH-LJZ", by=DIRECTOR)
    before = budgets.lines_of(db, theirs.id)
    with pytest.raises(InvalidInput) as refused:
        upload(db, theirs, download(db, mine, by=DIRECTOR), by=DIRECTOR)
    assert refused.value.code == "wrong_template"
    assert set(refused.value.errors) == {"row 1, column B", "row 5, column B"}
    renamed = edited(download(db, theirs, by=DIRECTOR), {"B1": "SH-XTD"})
    with pytest.raises(InvalidInput) as refused:
        upload(db, theirs, renamed, by=DIRECTOR)
    assert set(refused.value.errors) == {"row 1, column B"}
    assert budgets.lines_of(db, theirs.id) == before


def test_a_revision_takes_only_its_own_template(db):
    first = approved_plan(db, "SH-LJZ", YEAR, "expense", {"ADM-OFFICE": "1200"}, by=DIRECTOR)
    second = budgets.revise_plan(db, person(db, DIRECTOR), first.plan_id)
    with pytest.raises(InvalidInput) as refused:
        upload(db, second, download(db, first, by=DIRECTOR), by=DIRECTOR)
    assert set(refused.value.errors) == {"row 5, column B"}


def test_moved_columns_and_broken_files_are_refused(db):
    version = draft(db, STARTING)
    book = load_workbook(io.BytesIO(download(db, version)))
    book.active.insert_cols(5)
    with pytest.raises(InvalidInput) as refused:
        upload(db, version, saved(book))
    assert refused.value.code == "bad_header" and "row 7, column E" in refused.value.errors
    with pytest.raises(InvalidInput) as broken:
        upload(db, version, b"PK\x03\x04 not a zip")
    assert broken.value.code == "bad_file"


# --- over the API -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def call(control, group):
    """The budgets API as a person of the group, named by login (a personal token each)."""
    api, tokens = api_caller(group, "/budgets"), personal_tokens(control, group, SCOPES)
    return lambda method, path, login, **kwargs: api(method, path, tokens[login], **kwargs)


def _opened(call, units, year, unit="SH-XTD"):
    opened = call(
        "POST",
        "/plans",
        ACCOUNTANT,
        json={"unit_id": units[unit], "fiscal_year": year, "plan_kind": "expense"},
    )
    version = opened.json["id"]
    spec = lines({"ADM-OFFICE": "1200", "ADM-TRAVEL": "600"}, "SH-XTD-FIN")
    call("PUT", f"/versions/{version}/lines", ACCOUNTANT, json={"lines": spec})
    return version


@pytest.fixture(scope="module")
def units(control, group):
    with tenant_session(control, group.schema_name) as session:
        return {u: org.get_unit_by_code(session, u).id for u in ("SH-XTD", "EAST", "HQ")}


def test_xlsx_endpoints_keep_the_version_s_authorization_r_org_2(call, units):
    version = _opened(call, units, YEAR + 1)
    got = call("GET", f"/versions/{version}/xlsx", ACCOUNTANT)
    assert got.status_code == 200 and got.mimetype == XLSX
    assert "SH-XTD-2046-expense-v1.xlsx" in got.headers["Content-Disposition"]
    data = got.get_data()
    assert call("GET", f"/versions/{version}/xlsx", OUTSIDER).status_code == 403
    for who in (OUTSIDER, "feng.shenji"):  # outside the subtree; an auditor reads only
        refused = call("PUT", f"/versions/{version}/xlsx", who, data=data)
        assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert call("GET", "/versions/999999999/xlsx", ACCOUNTANT).status_code == 404
    assert call("PUT", "/versions/999999999/xlsx", ACCOUNTANT, data=data).status_code == 404
    office = rows_of(sheet_of(data))["ADM-OFFICE"]
    bad = edited(data, {f"F{office}": "1.001"})
    refused = call("PUT", f"/versions/{version}/xlsx", ACCOUNTANT, data=bad)
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {f"row {office}, column F"}
    good = edited(data, {f"F{office}": 200})
    done = call("PUT", f"/versions/{version}/xlsx", ACCOUNTANT, data=good)
    assert done.status_code == 200 and done.json["lines"][0]["amounts"][1] == "200.00"
    assert done.json["periods"] == list(range(1, 13)) and done.json["horizon"] == "annual"


def test_a_template_declaring_columns_to_xfd_is_refused_before_it_is_read(db):
    """5 KB declaring 16,384 columns over 2,000 rows took 305 MB when each row was padded."""
    version, data, _ = started(db)
    before = budgets.lines_of(db, version.id)
    bomb = crafted(data, dimension="A1:XFD2000", far_row=2000)

    def send():
        with pytest.raises(TooLarge) as refused:
            upload(db, version, bomb)
        assert refused.value.code == "too_many_columns"
        assert f"the limit is {MAX_COLUMNS} columns" in refused.value.message

    assert peak_bytes(send) < 20 * 2**20
    assert budgets.lines_of(db, version.id) == before


def test_a_template_row_far_below_the_rest_is_refused_unread(db):
    """Every row number skipped is a row when read: a million for one cell at the bottom."""
    version, data, _ = started(db)

    def send():
        with pytest.raises(TooLarge) as refused:
            upload(db, version, crafted(data, dimension="", far_row=1_048_576))
        assert refused.value.code == "too_many_rows"
        assert f"the limit is {plan_workbook.MAX_ROWS} rows" in refused.value.message

    assert peak_bytes(send) < 50 * 2**20


def test_only_a_draft_takes_an_upload(call, units):
    version = _opened(call, units, YEAR + 2)
    data = call("GET", f"/versions/{version}/xlsx", ACCOUNTANT).get_data()
    call(
        "POST",
        "/seasons",
        DIRECTOR,
        json={"fiscal_year": YEAR + 2, "deadline": "2099-12-31"},
    )
    assert call("POST", f"/versions/{version}/submit", ACCOUNTANT).status_code == 200
    refused = call("PUT", f"/versions/{version}/xlsx", ACCOUNTANT, data=data)
    assert refused.status_code == 409 and refused.json["code"] == "version_not_draft"
    # a submitted version is still downloaded, as everyone who may read it sees it
    assert call("GET", f"/versions/{version}/xlsx", "feng.shenji").status_code == 200


# --- plan vs actual as a workbook -----------------------------------------------------------


@pytest.fixture(scope="module")
def figures_year(control, group):
    """Approved plans at a branch and its region, another branch's plan in approval, income
    and ledger actuals."""
    year = YEAR + 10
    with tenant_session(control, group.schema_name) as db:
        approved_plan(
            db,
            "SH-XTD",
            year,
            "expense",
            {"ADM-OFFICE": "1200", "ADM-TRAVEL": "600.30"},
            by=ACCOUNTANT,
        )
        approved_plan(
            db,
            "SH-XTD",
            year,
            "profit",
            {"REV-FEE": "100000", "COST-LABOR": "40000.01"},
            by=ACCOUNTANT,
        )
        approved_plan(db, "EAST", year, "expense", {"ADM-OFFICE": "333.33"}, by="sun.diqucaiwu")
        sent_plan(db, "SH-LJZ", year, "expense", {"ADM-TRAVEL": "999"}, by=DIRECTOR)
        for month, amount in ((1, "8000.10"), (4, "9100")):
            actuals.record_income(
                db,
                person(db, DIRECTOR),
                unit_id=org.get_unit_by_code(db, "SH-XTD").id,
                category="REV-FEE",
                fiscal_year=year,
                month=month,
                amount=amount,
            )
        rows = [
            ("ADM-OFFICE", "SH-XTD", year, 2, "1100.25"),  # past 80 % of the year's plan
            ("ADM-TRAVEL", "SH-XTD", year, 3, "700"),  # over the plan
            ("ADM-TRAVEL", "SH-LJZ", year, 5, "12.34"),
        ]
        body = "科目,单位,年度,月份,金额\n" + "\n".join(",".join(map(str, r)) for r in rows)
        ledger.import_ledger(db, person(db, DIRECTOR), filename="l.csv", data=body.encode())
        db.commit()
    return year


def _sheet_rows(data):
    sheet = sheet_of(data)
    found = {}
    for row in range(4, sheet.max_row + 1):
        cells = [sheet.cell(row, column) for column in range(1, 11)]
        found[(cells[0].value, cells[2].value)] = (sheet.row_dimensions[row].outline_level, cells)
    return found


def _cents(value) -> Decimal:
    assert isinstance(value, int | float), value  # a number Excel sums, not text
    return Decimal(str(value)).quantize(CENT)


@pytest.mark.parametrize(
    ("unit", "query"),
    [
        ("HQ", {"depth": 3}),
        ("EAST", {"depth": 1, "versions": "latest", "month_from": 2, "month_to": 6}),
        ("SH-XTD", {"depth": 0}),
    ],
)
def test_r_bud_5_figures_workbook_equals_the_json_figures_to_the_cent(
    call, units, figures_year, unit, query
):
    params = {"unit_id": units[unit], "fiscal_year": figures_year, **query}
    expected = call("GET", "/figures", DIRECTOR, query_string=params).json["rows"]
    got = call("GET", "/figures.xlsx", DIRECTOR, query_string=params)
    assert got.status_code == 200 and got.mimetype == XLSX
    rows = _sheet_rows(got.get_data())
    assert len(rows) == len(expected) > 0
    depth = {"HQ": 0, "EAST": 1, "SOUTH": 1, "SH-XTD": 2, "SH-LJZ": 2}
    for figure in expected:
        level, cells = rows[(figure["unit"], figure["category"])]
        plan, actual, variance, rate, alert = (cell.value for cell in cells[5:])
        assert [_cents(plan), _cents(actual), _cents(variance)] == [
            Decimal(figure["plan"]),
            Decimal(figure["actual"]),
            Decimal(figure["variance"]),
        ]
        assert (rate is None and figure["rate"] is None) or Decimal(str(rate)) == Decimal(
            figure["rate"]
        )
        assert alert == (ALERTS[figure["alert"]][0] if figure["alert"] else None)
        assert cells[5].number_format == "#,##0.00" and cells[8].number_format == "0.00%"
        assert level == depth[figure["unit"]] - depth[unit]
    if unit == "HQ":  # the year's figures hold both alerts
        assert {"over_80", "over_100"} <= {figure["alert"] for figure in expected}


def test_figures_workbook_is_read_as_the_figures_are_r_org_2(call, units, figures_year):
    params = {"unit_id": units["EAST"], "fiscal_year": figures_year}
    assert call("GET", "/figures.xlsx", OUTSIDER, query_string=params).status_code == 403
    missing = {"unit_id": 999999999, "fiscal_year": figures_year}
    assert call("GET", "/figures.xlsx", DIRECTOR, query_string=missing).status_code == 404
    bad = {"unit_id": units["EAST"], "fiscal_year": figures_year, "month_from": 7, "month_to": 2}
    assert call("GET", "/figures.xlsx", DIRECTOR, query_string=bad).status_code == 422
