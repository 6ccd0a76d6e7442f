"""Bank accounts in the portal: the accounts of the reader's units (numbers masked unless they
may read numbers there), an account's page with its seals, signatories, book balance and
requests, the opening, change and closing request forms (R-BNK-1; a keeper's departure draft,
R-BNK-3, is completed on the change form), and registering the number the bank gave.

Nested under the portal blueprint (endpoints ``portal.banking.*``). Thin: every rule is the
services'. A refusal is shown on the form with its status, and the unit of work rolls back.
Requests are approved on the approvals pages like any other request.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from propgroup.approvals.forms import parse_day
from propgroup.banking import checks, lifecycle, registration
from propgroup.banking.models import (
    ACCOUNT_TYPES,
    REQUEST_KINDS,
    SEAL_KINDS,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.service import book_balance, read_account, shown_number, visible_accounts
from propgroup.errors import DomainError, NotFound
from propgroup.identity import authz
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("banking", __name__, url_prefix="/banking")

STATUS_LABELS = {
    "pending": _l("Approved, waiting for the bank's number"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "draft": _l("Draft"),
    "submitted": _l("In approval"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
    "withdrawn": _l("Withdrawn"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "bank_status": lambda status: str(STATUS_LABELS.get(status, status)),
        "account_types": ACCOUNT_TYPES,
        "seal_kinds": SEAL_KINDS,
        "request_kinds": REQUEST_KINDS,
    }


def _writable_units() -> list[OrgUnit]:
    session = tenant_db()
    return list(
        session.scalars(
            select(OrgUnit)
            .where(
                authz.visible_units(session, g.principal, "banking:write"),
                OrgUnit.kind != "department",
            )
            .order_by(OrgUnit.path)
        )
    )


@bp.get("")
@login_required
def index():
    session = tenant_db()
    accounts = session.scalars(visible_accounts(session, g.principal)).all()
    return render_template(
        "banking/index.html",
        accounts=[(a, shown_number(session, g.principal, a)) for a in accounts],
        units={u.id: u for u in session.scalars(select(OrgUnit))},
        requests=session.scalars(lifecycle.visible_requests(session, g.principal).limit(50)).all(),
        may_raise=bool(_writable_units()),
    )


def _render_account(account_id: int, *, error: str | None = None, status: int = 200):
    session = tenant_db()
    account = read_account(session, g.principal, account_id)
    unit = org.get_unit(session, account.unit_id)
    may_write = authz.can(session, g.principal, "banking:write", unit)
    return (
        render_template(
            "banking/account.html",
            account=account,
            unit=unit,
            number=shown_number(session, g.principal, account),
            balance=book_balance(session, account.id),
            seals=checks.seals_of(session, account.id),
            signatories=checks.signatories_of(session, account.id),
            requests=session.scalars(
                lifecycle.visible_requests(session, g.principal, account.id)
            ).all(),
            may_register=account.status == "pending" and may_write,
            may_request=account.status == "open" and may_write,
            error=error,
        ),
        status,
    )


@bp.get("/accounts/<int:account_id>")
@login_required
def account(account_id: int):
    return _render_account(account_id)


@bp.post("/accounts/<int:account_id>/opening")
@login_required
def register_opening(account_id: int):
    session = tenant_db()
    try:
        registration.register_opening(
            session,
            g.principal,
            account_id,
            number=request.form.get("number", ""),
            opened_on=parse_day(request.form.get("opened_on", "")),
        )
    except DomainError as error:
        session.rollback()
        return _render_account(account_id, error=error.message, status=error.status)
    flash(_("The account is open."), "info")
    return redirect(url_for(".account", account_id=account_id), code=303)


def _logins(typed: str) -> list[str]:
    """Logins typed one per line or comma."""
    return [s for s in (s.strip() for s in typed.replace(",", "\n").split("\n")) if s]


def _open_form() -> dict[str, Any]:
    """The opening form as typed."""
    form = request.form
    return {
        "bank": form.get("bank", "").strip(),
        "bank_branch": form.get("bank_branch", "").strip(),
        "account_name": form.get("account_name", "").strip(),
        "account_type": form.get("account_type", ""),
        "currency": form.get("currency", "CNY").strip() or "CNY",
        "purpose": form.get("purpose", "").strip(),
        "single_purpose": form.get("single_purpose") == "on",
        "seals": {kind: form.get(kind, "").strip() for kind in SEAL_KINDS},
        "signatories": _logins(form.get("signatories", "")),
        "reason": form.get("reason", "").strip(),
    }


def _change_form() -> dict[str, Any]:
    """The change form as typed: only what is filled in changes (content.ChangesSchema)."""
    form = request.form
    changes: dict[str, Any] = {}
    seals = {kind: form.get(kind, "").strip() for kind in SEAL_KINDS}
    if any(seals.values()):
        changes["seals"] = {kind: login for kind, login in seals.items() if login}
    if signatories := _logins(form.get("signatories", "")):
        changes["signatories"] = signatories
    for field in ("purpose", "bank_branch"):
        if value := form.get(field, "").strip():
            changes[field] = value
    return {"changes": changes, "reason": form.get("reason", "").strip()}


def _typed_form(kind: str) -> dict[str, Any]:
    if kind == "change":
        return _change_form()
    return {"reason": request.form.get("reason", "").strip()}


def _problems(error: DomainError) -> list[str]:
    """Every field the service named, as ``field: problem`` lines, but for problems its message
    says already (a closing's reasons are both)."""
    lines = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            unsaid = [v for v in value if v not in error.message]
            if unsaid:
                lines.append(f"{where}: {'; '.join(unsaid)}")
        else:
            lines.append(f"{where}: {value}")

    walk(error.errors or {}, "")
    return lines


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    """An opening request (开设银行账户申请表), raised as a draft by the unit's finance."""
    units = _writable_units()
    values: dict[str, Any] = {"seals": {}, "signatories": []}
    if request.method == "POST":
        session = tenant_db()
        values = _open_form()
        try:
            raised = lifecycle.raise_request(
                session,
                g.principal,
                kind="open",
                unit_id=request.form.get("unit_id", type=int),
                form=values,
            )
        except DomainError as error:
            session.rollback()
            return render_template(
                "banking/new.html",
                units=units,
                values=values,
                error=error.message,
                problems=_problems(error),
            ), error.status
        return redirect(url_for(".request_page", request_id=raised.id), code=303)
    return render_template("banking/new.html", units=units, values=values, problems=[])


def _render_request(request_id: int, *, error: str | None = None, status: int = 200):
    session = tenant_db()
    found = lifecycle.read_request(session, g.principal, request_id)
    unit = org.get_unit(session, found.unit_id)
    return (
        render_template(
            "banking/request.html",
            req=found,
            unit=unit,
            account=session.get(BankAccount, found.account_id) if found.account_id else None,
            may_act=authz.can(session, g.principal, "banking:write", unit),
            error=error,
        ),
        status,
    )


@bp.get("/requests/<int:request_id>")
@login_required
def request_page(request_id: int):
    return _render_request(request_id)


def _act(request_id: int, act, done: str):
    session = tenant_db()
    try:
        act(session, g.principal, request_id)
    except DomainError as error:
        session.rollback()
        return _render_request(request_id, error=error.message, status=error.status)
    flash(done, "info")
    return redirect(url_for(".request_page", request_id=request_id), code=303)


@bp.post("/requests/<int:request_id>/submit")
@login_required
def submit(request_id: int):
    return _act(request_id, lifecycle.submit, _("The request is in approval."))


@bp.post("/requests/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    return _act(request_id, lifecycle.withdraw, _("The request was withdrawn."))


def _render_form(
    kind: str,
    account: BankAccount,
    values: dict[str, Any],
    *,
    req: BankAccountRequest | None = None,
    error: DomainError | None = None,
):
    """The change or closing form, for a new request or a draft's revision."""
    session = tenant_db()
    action = (
        url_for(".revise", request_id=req.id)
        if req
        else url_for(".account_request", account_id=account.id, kind=kind)
    )
    return (
        render_template(
            "banking/account_request.html",
            kind=kind,
            account=account,
            unit=org.get_unit(session, account.unit_id),
            keepers={seal.kind: user.login for seal, user in checks.seals_of(session, account.id)},
            signers=[user.login for _, user in checks.signatories_of(session, account.id)],
            req=req,
            departure=(req.form.get("departure") if req else None),
            values=values,
            action=action,
            error=error.message if error else None,
            problems=_problems(error) if error else [],
        ),
        error.status if error else 200,
    )


@bp.route("/accounts/<int:account_id>/requests/<any(change, close):kind>", methods=["GET", "POST"])
@login_required
def account_request(account_id: int, kind: str):
    """A change or closing request (变更/注销银行账户申请表) of the account, raised as a draft."""
    session = tenant_db()
    account = read_account(session, g.principal, account_id, "banking:write")
    if request.method == "GET":
        return _render_form(kind, account, {})
    values = _typed_form(kind)
    try:
        raised = lifecycle.raise_request(
            session, g.principal, kind=kind, account_id=account_id, form=values
        )
    except DomainError as error:
        session.rollback()
        account = read_account(session, g.principal, account_id)
        return _render_form(kind, account, values, error=error)
    return redirect(url_for(".request_page", request_id=raised.id), code=303)


@bp.route("/requests/<int:request_id>/revise", methods=["GET", "POST"])
@login_required
def revise(request_id: int):
    """A change or closing draft (or returned request) rewritten; a keeper's departure draft
    (R-BNK-3) is completed here: the form names what must be replaced."""
    session = tenant_db()
    found = lifecycle.read_request(session, g.principal, request_id, "banking:write")
    if found.kind == "open":
        raise NotFound("an opening is revised through the API", code="not_found")
    account = read_account(session, g.principal, found.account_id)
    if request.method == "GET":
        return _render_form(found.kind, account, found.form, req=found)
    # What the form does not show (a dormancy finding) stays as it was.
    values = {**lifecycle.finance_part(found.form), **_typed_form(found.kind)}
    try:
        lifecycle.revise(session, g.principal, request_id, values)
    except DomainError as error:
        session.rollback()
        found = lifecycle.read_request(session, g.principal, request_id)
        account = read_account(session, g.principal, found.account_id)
        return _render_form(found.kind, account, values, req=found, error=error)
    flash(_("The draft is saved."), "info")
    return redirect(url_for(".request_page", request_id=request_id), code=303)
