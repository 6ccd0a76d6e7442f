"""Approvals in the portal (R-APR-1…8): the inbox, a new request, a request's page with the
actions its viewer may take, the printable form, delegations.

Nested under the portal blueprint (endpoints ``portal.approvals.*``), so the pages share its
layout, CSRF protection, headers and HTML error pages. Thin: every rule is ``service``'s, the
read-only questions are ``inbox``'s. A refusal is shown on the page it came from with its status
(422, 403, 409); the request's unit of work then rolls back, so a refused form writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from propgroup.approvals import deadlines, inbox
from propgroup.approvals import service as approvals
from propgroup.approvals.forms import (
    LINE_ROWS,
    ListFilter,
    RequestForm,
    check_business,
    check_form,
    form_total,
    in_words,
    parse_day,
)
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.policy import (
    ALL_REQUEST_TYPES,
    COUNTED_TYPES,
    REQUEST_TYPES,
    SUBJECT_TYPES,
)
from propgroup.approvals.words import amount_in_words
from propgroup.errors import DomainError, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.portal.auth import is_partial_request, login_required
from propgroup.portal.errors import render_error
from propgroup.portal.formatting import cny
from propgroup.storage.api import document_response
from propgroup.storage.settings import configured_store, max_upload_bytes
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("approvals", __name__, url_prefix="/approvals")

LIST_LIMIT = 100
REFERENCE_MAX, COMMENT_MAX = 60, 1000

TYPE_LABELS = {
    "expense_claim": _l("Expense claim"),
    "advance": _l("Cash advance"),
    "supplier_payment": _l("Supplier payment"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_approval": _l("In approval"),
    "approved": _l("Approved"),
    "rejected": _l("Returned"),
    "withdrawn": _l("Withdrawn"),
    "paid": _l("Paid"),
}
STEP_LABELS = {
    "pending": _l("Not reached"),
    "current": _l("Waiting"),
    "approved": _l("Agreed"),
    "rejected": _l("Returned"),
    "cancelled": _l("Withdrawn"),
}
METHOD_LABELS = {"cash": _l("Cash"), "transfer": _l("Bank transfer"), "cheque": _l("Cheque")}
TABS = {
    "waiting": _l("Waiting for me"),
    "mine": _l("My requests"),
    "overdue": _l("Overdue steps"),
    "advances": _l("Advances to report"),
    "visible": _l("All I can see"),
}


def type_label(request_type: str) -> str:
    return str(TYPE_LABELS.get(request_type, ALL_REQUEST_TYPES.get(request_type, request_type)))


def figure(amount: Decimal, request_type: str) -> str:
    """A request's amount as the page shows it: money, or a count of items for the types whose
    amount counts items (a destruction list's 件)."""
    if request_type in COUNTED_TYPES:
        return _("%(count)d items", count=int(amount))
    return cny(amount)


def words_for(request: ApprovalRequest) -> str:
    """The amount in words (R-APR-8), for money only."""
    return "" if request.request_type in COUNTED_TYPES else amount_in_words(request.total_amount)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "type_label": type_label,
        "figure": figure,
        "status_label": status_label,
        "step_label": lambda key: str(STEP_LABELS.get(key, key)),
        "method_label": lambda method: str(METHOD_LABELS.get(method, method)),
        "signer": signer,
    }


def signer(people: dict[int, Any], decided_by: int | None, acting_for: int | None) -> str:
    """ "A 代 B" when A signed for B (R-APR-5); else A; empty when nobody signed yet."""
    if decided_by is None:
        return ""
    name = people[decided_by].display_name
    if acting_for is None:
        return name
    return _(
        "%(delegate)s for %(delegator)s", delegate=name, delegator=people[acting_for].display_name
    )


# --- refusals -----------------------------------------------------------------------------


def refusal_message(error: DomainError) -> str:
    """The service's refusal in the reader's language (its own English message as a fallback)."""
    state = error.errors if isinstance(error.errors, dict) else {}
    status = status_label(str(state.get("status", "")))
    if error.code == "not_current_step":
        if state.get("status") == "in_approval":
            now = _("in approval at step %(step)s", step=state.get("current_step"))
        else:
            now = status
        return _(
            "This step has already been decided, or the request has moved on: it is now %(now)s. "
            "Nothing was changed by your click. The page below shows where it stands.",
            now=now,
        )
    messages = {
        "bad_state": _("That is not possible while the request is %(status)s.", status=status),
        "already_paid": _("This request has already been paid. Nothing was changed."),
        "self_approval": _("Nobody approves their own request (R-APR-3)."),
        "second_step": _("One person decides only one step of a request (R-APR-3)."),
        "not_your_step": _(
            "This step is not yours: you do not hold its role at that unit, "
            "and nobody who holds it delegated to you."
        ),
        "not_requester": _("Only the requester may do that."),
        "not_editable": _(
            "Only the requester changes a request, and only while it is a draft or returned."
        ),
        "business_required": _(
            "An advance names where the business takes place and the day it ends (R-CASH-3)."
        ),
        "bad_business": _(
            "Give both where the business took place and the day it ended, or neither; a "
            "supplier payment has neither."
        ),
        "business_not_ended": _("An expense claim reports business that has ended."),
        "bad_settlement": _(
            "That advance cannot be reported by this claim: it must be one of your own paid "
            "advances."
        ),
        "already_settled": _("That advance is already reported by another claim."),
        "business_out_of_range": _(
            "The day the business ends is more than ten years ago or more than a year ahead."
        ),
        "form_too_small": _(
            "This request has more lines, or budget lines, than the portal's form shows: change "
            "it through the API so nothing is lost."
        ),
        "not_payer": _("Only the paying cashier of this unit records the payment."),
        "segregation_of_duties": _("Who reviewed a request does not also pay it (R-ORG-3)."),
        "self_payment": _("Nobody pays their own request."),
        "cheque_number": _("A cheque payment needs the cheque number."),
        "bad_method": _("Choose how it was paid."),
        "bad_dates": _("A delegation ends on or after the day it starts."),
        "forbidden": _("Your roles do not allow this at that unit."),
        "bad_unit": _("Requests are raised by a branch, region or HQ, not by a department."),
        "bad_request_type": _("Choose the kind of request."),
        "link_used": _(
            "This link has done its work: the step was decided, or the request changed since the "
            "mail was sent. Open the request in the portal to see where it stands."
        ),
        "link_expired": _("This link has expired. Open the request in the portal instead."),
        "bad_link": _("This link is not valid. Open the request in the portal instead."),
        "inactive_account": _("The account this link was sent to is no longer active."),
    }
    if error.code in messages:
        return messages[error.code]
    if error.code in ("no_policy", "no_policy_rule", "no_region"):
        return _(
            "The approval policy has no chain for this request: %(detail)s", detail=error.message
        )
    return error.message


# --- the inbox ----------------------------------------------------------------------------


def _rows(session: Session, requests: list[ApprovalRequest]) -> dict[str, Any]:
    steps = inbox.current_steps(session, requests)
    return {
        "requests": requests,
        "steps": steps,
        "units": inbox.units_by_id(
            session, [r.unit_id for r in requests] + [s.unit_id for s in steps.values()]
        ),
        "people": inbox.users_by_id(session, [r.requester_id for r in requests]),
    }


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


@bp.get("")
@login_required
def index():
    session, me = tenant_db(), g.principal
    tab = request.args.get("tab", "waiting")
    tab = tab if tab in TABS else "waiting"
    filters = ListFilter.from_args(request.args)
    queries = {
        "waiting": inbox.waiting_for(session, me),
        "mine": approvals.visible_requests(session, me, mine=True),
        "overdue": approvals.visible_requests(session, me, overdue=True, status="in_approval"),
        "advances": approvals.visible_requests(session, me, advances_overdue=True),
        "visible": approvals.visible_requests(session, me, **filters.query),
    }
    counts = {name: _count(session, query) for name, query in queries.items()}
    shown = list(session.scalars(queries[tab].limit(LIST_LIMIT)))
    context = {
        "tab": tab,
        "tabs": TABS,
        "counts": counts,
        "limit": LIST_LIMIT,
        "filters": filters,
        "request_types": list(ALL_REQUEST_TYPES),
        "statuses": STATUS_LABELS,
    }
    context.update(_rows(session, shown))
    template = "approvals/_inbox.html" if is_partial_request() else "approvals/inbox.html"
    response = Response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


# --- a new request ------------------------------------------------------------------------


def _render_form(form: RequestForm, units: list[Any], req: ApprovalRequest | None, status=200):
    session = tenant_db()
    total = form_total(form)
    page = render_template(
        "approvals/new.html",
        form=form,
        units=units,
        req=req,
        request_types=list(REQUEST_TYPES),
        advances=inbox.reportable_advances(session, g.principal, keep=req),
        total=total,
        words=in_words(total),
    )
    return page, status


def _save(form: RequestForm, units: list[Any], req: ApprovalRequest | None):
    """Create (``req`` None) or change a request from the posted form, and submit it if asked."""
    session = tenant_db()
    lines = check_form(form, {str(unit.id): unit for unit in units})
    business = check_business(form)
    if form.errors:
        return _render_form(form, units, req, 422)
    content = {"title": form.title, "payee": form.payee, "lines": lines, **business}
    try:
        if req is None:
            saved = approvals.create_request(
                session,
                g.principal,
                request_type=form.request_type,
                unit_id=int(form.unit_id),
                **content,
            )
        else:
            saved = approvals.revise_request(session, g.principal, req.id, **content)
        if request.form.get("action") == "submit":
            approvals.submit(session, g.principal, saved.id)
            flash(_("Request %(number)d was submitted for approval.", number=saved.id), "info")
        else:
            flash(_("Request %(number)d was saved as a draft.", number=saved.id), "info")
    except DomainError as error:
        session.rollback()  # a request created just now is gone again: the form stays "new"
        form.refuse(refusal_message(error))
        if req is None:
            units = inbox.writable_units(session, g.principal)
        return _render_form(form, units, req, error.status)
    return redirect(url_for(".detail", request_id=saved.id), code=303)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    units = inbox.writable_units(tenant_db(), g.principal)
    if not units:
        raise Forbidden("no unit where this person may raise a request", code="forbidden")
    if request.method == "GET":
        form = RequestForm(unit_id=str(units[0].id) if len(units) == 1 else "")
        return _render_form(form, units, None)
    return _save(RequestForm.from_post(request.form), units, None)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id: int):
    """A draft, or a returned request as its next revision (R-APR-4); the requester only."""
    session = tenant_db()
    req = inbox.readable(session, g.principal, request_id)
    if req.requester_id != g.principal.id or req.status not in approvals.REVISABLE_STATUSES:
        return _refused(request_id, Forbidden("not editable now", code="not_editable"))
    lines = approvals.lines_of(session, req)
    if len(lines) > LINE_ROWS or any(line.budget_line for line in lines):
        return _refused(request_id, InvalidInput("too much for the form", code="form_too_small"))
    units = [org.get_unit(session, req.unit_id)]
    if request.method == "GET":
        form = RequestForm.from_request(req, lines)
        return _render_form(form, units, req)
    form = RequestForm.from_post(request.form)
    form.request_type, form.unit_id = req.request_type, str(req.unit_id)  # fixed once raised
    return _save(form, units, req)


@bp.post("/new/total")
@login_required
def total():
    """htmx fragment: the total (and in words) of what has been typed so far."""
    amount = form_total(RequestForm.from_post(request.form))
    return render_template("approvals/_total.html", total=amount, words=in_words(amount))


# --- one request --------------------------------------------------------------------------


@dataclass
class Revision:
    number: int
    steps: list[Any]


def _detail_context(session: Session, req: ApprovalRequest) -> dict[str, Any]:
    me = g.principal
    steps = approvals.steps_of(session, req)
    by_revision: dict[int, list[Any]] = defaultdict(list)
    for step in steps:
        by_revision[step.revision].append(step)
    payment = inbox.payment_of(session, req)
    waiting = inbox.is_waiting_for(session, me, req)
    people = inbox.users_by_id(
        session,
        [req.requester_id, payment.paid_by if payment else None]
        + [s.decided_by for s in steps]
        + [s.acting_for for s in steps],
    )
    payer = inbox.payer_of(session, req)
    units = inbox.units_by_id(session, [req.unit_id] + [s.unit_id for s in steps])
    # A budget plan's request is sent, changed and withdrawn from the plan, not here.
    by_hand = me.id == req.requester_id and req.request_type not in SUBJECT_TYPES
    history: dict[int, list[Any]] = defaultdict(list)
    for line in approvals.lines_of(session, req, every_revision=True):
        if line.revision != req.revision:
            history[line.revision].append(line)
    return {
        "req": req,
        "lines": approvals.lines_of(session, req),
        "earlier_lines": dict(sorted(history.items())),
        "vouchers": approvals.vouchers_of(session, req),
        "report_due_on": deadlines.report_due_on(req.business_kind, req.business_ended_on),
        "advance_overdue": approvals.advance_overdue(session, req),
        "can_edit": by_hand and req.status in approvals.REVISABLE_STATUSES,
        "can_attach": by_hand and req.status in approvals.ATTACHABLE_STATUSES,
        "words": words_for(req),
        "revisions": [Revision(n, by_revision[n]) for n in sorted(by_revision)],
        "people": people,
        "units": units,
        "payment": payment,
        "payer": payer,
        "current": inbox.current_step(session, req),
        "waiting": waiting,
        "acting_for": inbox.acting_for(session, me, req) if waiting else None,
        "can_submit": by_hand and req.status in approvals.REVISABLE_STATUSES,
        "can_withdraw": by_hand and req.status in ("draft", "in_approval", "rejected"),
        "can_pay": inbox.may_pay(session, me, req),
        "methods": METHOD_LABELS,
    }


def _render_detail(req: ApprovalRequest, *, error: str | None = None, status: int = 200):
    session = tenant_db()
    return render_template(
        "approvals/detail.html", error=error, **_detail_context(session, req)
    ), status


def _refused(request_id: int, error: DomainError, message: str | None = None):
    """The request's page again, as it stands now, with the refusal on top and its status."""
    session = tenant_db()
    session.rollback()  # nothing of the refused action stays, not even in this session
    message = message or refusal_message(error)
    try:
        req = inbox.readable(session, g.principal, request_id)
    except DomainError:
        return render_error(error.status, message=message)
    return _render_detail(req, error=message, status=error.status)


@bp.get("/<int:request_id>")
@login_required
def detail(request_id: int):
    return _render_detail(inbox.readable(tenant_db(), g.principal, request_id))


@bp.get("/<int:request_id>/print")
@login_required
def print_form(request_id: int):
    session = tenant_db()
    req = inbox.readable(session, g.principal, request_id)
    context = _detail_context(session, req)
    context["signatures"] = context["revisions"][-1].steps if context["revisions"] else []
    context["now"] = approvals.now()
    return render_template("approvals/print.html", **context)


def _invalid(request_id: int, message: str):
    return _refused(request_id, InvalidInput(message), message)


@bp.post("/<int:request_id>/decide")
@login_required
def decide(request_id: int):
    session = tenant_db()
    inbox.readable(session, g.principal, request_id)  # unreadable: the 403/404 page, no detail
    decision = request.form.get("decision")
    comment = (request.form.get("comment") or "").strip() or None
    try:
        step = int(request.form.get("step", ""))
    except ValueError:
        return _invalid(request_id, _("The form names no step. Reload the page and try again."))
    if decision not in ("approve", "reject"):
        return _invalid(request_id, _("Choose approve or return."))
    if comment and len(comment) > COMMENT_MAX:
        return _invalid(
            request_id, _("The comment is too long (at most %(max)d characters).", max=COMMENT_MAX)
        )
    try:
        approvals.decide(
            session,
            g.principal,
            request_id,
            step=step,
            approve=decision == "approve",
            comment=comment,
        )
    except DomainError as error:
        return _refused(request_id, error)
    if decision == "approve":
        flash(_("You approved step %(step)d.", step=step), "info")
    else:
        flash(_("You returned the request to the requester."), "info")
    return redirect(url_for(".detail", request_id=request_id), code=303)


@bp.post("/<int:request_id>/submit")
@login_required
def submit(request_id: int):
    session = tenant_db()
    inbox.readable(session, g.principal, request_id)
    try:
        req = approvals.submit(session, g.principal, request_id)
    except DomainError as error:
        return _refused(request_id, error)
    flash(_("Submitted for approval (revision %(revision)d).", revision=req.revision), "info")
    return redirect(url_for(".detail", request_id=request_id), code=303)


@bp.post("/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    session = tenant_db()
    inbox.readable(session, g.principal, request_id)
    try:
        approvals.withdraw(session, g.principal, request_id)
    except DomainError as error:
        return _refused(request_id, error)
    flash(_("The request was withdrawn."), "info")
    return redirect(url_for(".detail", request_id=request_id), code=303)


@bp.post("/<int:request_id>/pay")
@login_required
def pay(request_id: int):
    session = tenant_db()
    inbox.readable(session, g.principal, request_id)
    method = request.form.get("method") or ""
    reference = (request.form.get("reference") or "").strip() or None
    if reference and len(reference) > REFERENCE_MAX:
        return _invalid(
            request_id,
            _("The reference is too long (at most %(max)d characters).", max=REFERENCE_MAX),
        )
    try:
        approvals.pay(session, g.principal, request_id, method=method, reference=reference)
    except DomainError as error:
        return _refused(request_id, error)
    flash(_("The payment was recorded."), "info")
    return redirect(url_for(".detail", request_id=request_id), code=303)


# --- vouchers ---------------------------------------------------------------------------


@bp.post("/<int:request_id>/vouchers")
@login_required
def attach(request_id: int):
    """The requester adds a scanned voucher (原始凭证, R-APR-8) to the request."""
    session = tenant_db()
    inbox.readable(session, g.principal, request_id)
    upload = request.files.get("voucher")
    if upload is None or not upload.filename:
        return _invalid(request_id, _("Choose a file to attach."))
    try:
        document = approvals.attach_voucher(
            session,
            configured_store(),
            g.principal,
            request_id,
            stream=upload.stream,
            filename=upload.filename,
            max_bytes=max_upload_bytes(),
        )
    except DomainError as error:
        if error.code == "upload_too_large":
            return _invalid(request_id, _("The file is too large."))
        return _refused(request_id, error)
    flash(_("%(name)s was attached.", name=document.filename), "info")
    return redirect(url_for(".detail", request_id=request_id), code=303)


@bp.get("/<int:request_id>/vouchers/<int:document_id>")
@login_required
def voucher(request_id: int, document_id: int):
    """A voucher's bytes, for whoever may read the request."""
    session = tenant_db()
    req = inbox.readable(session, g.principal, request_id)
    if document_id not in {d.id for d in approvals.vouchers_of(session, req)}:
        return render_error(404, message=_("This request has no such voucher."))
    return document_response(session, document_id)


# --- delegations --------------------------------------------------------------------------


@bp.route("/delegations", methods=["GET", "POST"])
@login_required
def delegations():
    session = tenant_db()
    today = approvals.today(session)
    values = {
        "delegate_login": "",
        "starts_on": today.isoformat(),
        "ends_on": today.isoformat(),
        "types": [],
    }
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {
            "delegate_login": (request.form.get("delegate_login") or "").strip(),
            "starts_on": request.form.get("starts_on") or "",
            "ends_on": request.form.get("ends_on") or "",
            "types": request.form.getlist("request_types"),
        }
        starts_on, ends_on = parse_day(values["starts_on"]), parse_day(values["ends_on"])
        if not values["delegate_login"]:
            errors.append(_("Enter the login of the person standing in for you."))
        if starts_on is None or ends_on is None:
            errors.append(_("Enter the first and the last day as dates."))
        if not errors:
            try:
                approvals.delegate(
                    session,
                    g.principal,
                    delegate_login=values["delegate_login"],
                    starts_on=starts_on,
                    ends_on=ends_on,
                    request_types=values["types"] or None,
                )
            except DomainError as error:
                session.rollback()
                if error.code == "bad_delegate":
                    errors.append(
                        _(
                            "%(login)s cannot stand in for you: check the login "
                            "(it may not be your own).",
                            login=values["delegate_login"],
                        )
                    )
                else:
                    errors.append(refusal_message(error))
                status = error.status
            else:
                flash(
                    _(
                        "%(login)s now stands in for you from %(start)s to %(end)s.",
                        login=values["delegate_login"],
                        start=starts_on.isoformat(),
                        end=ends_on.isoformat(),
                    ),
                    "info",
                )
                return redirect(url_for(".delegations"), code=303)
        else:
            status = 422
    page = render_template(
        "approvals/delegations.html",
        values=values,
        errors=errors,
        request_types=list(ALL_REQUEST_TYPES),
        rows=inbox.delegations_of(session, g.principal),
        today=today,
        me=g.principal.id,
    )
    return page, status


# Routes of this blueprint kept in their own module; imported here so they exist once bp does.
from propgroup.approvals import email_views  # noqa: E402, F401
