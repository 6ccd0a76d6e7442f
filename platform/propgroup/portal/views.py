"""Portal pages: home, the unit tree (with htmx expansion), one unit, the language switch.

Thin: units are read through org.service (read_unit authorizes, visible_units_query filters);
the two tree look-ups org.service lacks (direct children, child counts) are plain selects here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, g, render_template, request, session
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from propgroup.cashdesk.cash import alerts_with_units
from propgroup.identity import authz
from propgroup.identity import service as identity
from propgroup.identity.principals import Principal
from propgroup.identity.views import bp as identity_bp
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required, redirect_within_tenant
from propgroup.portal.errors import register_blueprint_error_pages
from propgroup.portal.i18n import LANGUAGE_KEY, normalise_language
from propgroup.portal.pending import pending_count
from propgroup.tenancy.middleware import current_tenant, tenant_db

bp = Blueprint(
    "portal",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/portal",
)
bp.register_blueprint(identity_bp)  # nested: its endpoints are portal.identity.*
register_blueprint_error_pages(bp)  # nested blueprints fall back to these too


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if g.get("user") is not None and response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@dataclass
class Node:
    """A non-department unit, its visible sub-units and its departments (shown inline)."""

    unit: OrgUnit
    children: list[Node] = field(default_factory=list)
    departments: list[OrgUnit] = field(default_factory=list)


def _visible(session: Session, principal: Principal) -> list[OrgUnit]:
    return list(session.scalars(org.visible_units_query(session, principal)))


def _tree(units: list[OrgUnit]) -> list[Node]:
    """Units (path-ordered) as a forest; a root is a unit whose parent is not visible.

    Siblings come in the order they were created (id): paths compare as text, so ``/1/10/``
    would sort before ``/1/8/``.
    """
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for unit in units:
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        if unit.kind == "department" and parent is not None:
            parent.departments.append(unit)
            continue
        node = Node(unit)
        nodes[unit.id] = node
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda child: child.unit.id)
        node.departments.sort(key=lambda department: department.id)
    return sorted(roots, key=lambda root: root.unit.id)


def _child_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(OrgUnit.parent_id, func.count())
        .where(OrgUnit.parent_id.in_(ids))
        .group_by(OrgUnit.parent_id)
    )
    return {parent_id: count for parent_id, count in rows}


def _children(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Direct sub-units, departments last."""
    query = (
        select(OrgUnit)
        .where(OrgUnit.parent_id == unit.id)
        .order_by(OrgUnit.kind == "department", OrgUnit.id)
    )
    return list(session.scalars(query))


def _readable_unit(unit_id: int) -> OrgUnit:
    """The unit, if the signed-in person's roles reach it (else a 403 page; 404 if none)."""
    return org.read_unit(tenant_db(), g.principal, unit_id)


@bp.get("/")
@login_required
def home():
    session_ = tenant_db()
    return render_template(
        "portal/home.html",
        roles=identity.roles_of(session_, g.user),
        forest=_tree(_visible(session_, g.principal)),
        pending=pending_count(session_, g.principal),
        cash_alerts=alerts_with_units(session_, g.principal),
    )


@bp.get("/units")
@login_required
def units():
    session_ = tenant_db()
    roots = [node.unit for node in _tree(_visible(session_, g.principal))]
    return render_template(
        "portal/units.html",
        roots=roots,
        counts=_child_counts(session_, [u.id for u in roots]),
    )


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    session_ = tenant_db()
    unit_ = _readable_unit(unit_id)
    trail = [
        (above, authz.can(session_, g.principal, "org:read", above))
        for above in org.ancestors(session_, unit_)
    ]
    children = _children(session_, unit_)
    return render_template(
        "portal/unit.html",
        unit=unit_,
        trail=trail,
        children=children,
        counts=_child_counts(session_, [c.id for c in children]),
    )


@bp.get("/units/<int:unit_id>/children")
@login_required
def unit_children(unit_id: int):
    """htmx fragment: the sub-units of one unit, each expandable in turn."""
    session_ = tenant_db()
    unit_ = _readable_unit(unit_id)
    children = _children(session_, unit_)
    return render_template(
        "portal/_children.html",
        parent=unit_,
        children=children,
        counts=_child_counts(session_, [c.id for c in children]),
    )


@bp.post("/lang/<code>")
def set_language(code: str):
    current_tenant()
    language = normalise_language(code)
    if language is None:
        abort(404)
    session[LANGUAGE_KEY] = language
    return redirect_within_tenant(request.form.get("next"))
