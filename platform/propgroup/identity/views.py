"""Portal sign-in, sign-out, password change and the user list (administration).

Registered under the portal blueprint (endpoints ``portal.identity.*``), so its pages share the
portal's layout, CSRF protection and HTML error pages.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from propgroup.audit.service import record
from propgroup.errors import InvalidInput, Unauthorized
from propgroup.identity import authz
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.portal.auth import (
    login_required,
    redirect_within_tenant,
    refresh_stamp,
    safe_next,
    sign_in,
    sign_out,
)
from propgroup.portal.limits import (
    LOGIN_FAILURES,
    LOGIN_FAILURES_ANY_ADDRESS,
    PASSWORD_FAILURES,
    limiter,
    login_attempt_key,
    login_failed,
    login_key_any_address,
    password_attempt_key,
    password_check_failed,
)
from propgroup.tenancy.middleware import current_tenant, tenant_db

bp = Blueprint("identity", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_FAILURES,
    key_func=login_attempt_key,
    methods=["POST"],
    deduct_when=login_failed,
    scope="portal-login",
)
@limiter.limit(
    LOGIN_FAILURES_ANY_ADDRESS,
    key_func=login_key_any_address,
    methods=["POST"],
    deduct_when=login_failed,
    scope="portal-login-any",
)
def login():
    tenant = current_tenant()
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect_within_tenant(next_path)
        return render_template("identity/login.html", tenant=tenant, next=next_path, login="")
    login_name = (request.form.get("login") or "").strip()
    password = request.form.get("password") or ""
    if not login_name or not password:
        error, status = _("Enter your login and your password."), 422
    else:
        try:
            user = identity.authenticate(tenant_db(), login_name, password)
        except Unauthorized:
            # 401 is what the lockout counts (deduct_when): only wrong credentials use it.
            error, status = _("Wrong login or password."), 401
        else:
            sign_in(tenant, user)
            record(tenant_db(), g.principal, "identity.signed_in", "user", user.id)
            return redirect_within_tenant(next_path)
    page = render_template(
        "identity/login.html", tenant=tenant, next=next_path, login=login_name, error=error
    )
    return page, status


@bp.post("/logout")
def logout():
    current_tenant()
    if g.get("user") is not None:
        identity.end_sessions(tenant_db(), g.user)
        record(tenant_db(), g.principal, "identity.signed_out", "user", g.user.id)
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("portal.identity.login"), code=303)


def _password_error(error: InvalidInput) -> str:
    if error.code == "bad_credentials":
        g.wrong_current_password = True  # counted by the password-change limit
        return _("Your current password is not right.")
    if error.code == "weak_password":
        return _(
            "The new password needs at least %(count)d characters and may not be your login.",
            count=identity.MIN_PASSWORD_LENGTH,
        )
    return error.message


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    PASSWORD_FAILURES,
    key_func=password_attempt_key,
    methods=["POST"],
    deduct_when=password_check_failed,
    scope="portal-password",
)
def password():
    if request.method == "GET":
        return render_template("identity/password.html")
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    if new != (request.form.get("confirm_password") or ""):
        error = _("The two new passwords are not the same.")
    else:
        try:
            identity.change_password(tenant_db(), g.user, current, new)
        except InvalidInput as exc:
            error = _password_error(exc)
        else:
            refresh_stamp(g.user)  # this browser stays signed in; every other one is signed out
            record(tenant_db(), g.principal, "identity.password_changed", "user", g.user.id)
            flash(_("Your password has been changed. Other sessions have been signed out."), "info")
            return redirect(url_for("portal.home"), code=303)
    return render_template("identity/password.html", error=error), 422


@bp.get("/admin/users")
@login_required
def admin_users():
    """Everyone of the group and their roles; group-wide, so users:manage is needed at the HQ."""
    session = tenant_db()
    authz.authorize(session, g.principal, "users:manage", org.get_root(session))
    users = session.scalars(select(User).order_by(User.login)).all()
    return render_template(
        "identity/users.html",
        people=[(user, identity.roles_of(session, user)) for user in users],
    )
