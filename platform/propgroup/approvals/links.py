"""Approve and reject links for e-mail (R-APR-4 decided from the inbox of one's mail).

A link names one person, one step of one revision and one decision, and expires. It is single
use by construction: once that step is decided, no link to it can decide again. Opening it shows
a confirmation page; only posting that page decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from propgroup.errors import DomainError, InvalidInput

_SALT = "propgroup.approvals.email-decision"
LINK_SECONDS = 72 * 3600


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


@dataclass(frozen=True)
class DecisionLink:
    tenant: str
    request_id: int
    revision: int
    step: int
    user_id: int
    approve: bool


def sign_link(secret: str, link: DecisionLink) -> str:
    payload = [link.tenant, link.request_id, link.revision, link.step, link.user_id, link.approve]
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(payload)


def read_link(secret: str, token: str, tenant: str, max_age: int = LINK_SECONDS) -> DecisionLink:
    try:
        payload = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired("this link has expired; open the request in the portal") from exc
    except BadSignature as exc:
        raise InvalidInput("this link is not valid", code="bad_link") from exc
    link = DecisionLink(*payload)
    if link.tenant != tenant:
        raise InvalidInput("this link belongs to another group", code="bad_link")
    return link
