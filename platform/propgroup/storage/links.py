"""Short-lived download links for stores that cannot presign (the filesystem): a signed token
naming the tenant and the document, valid for a few minutes. The token is the credential, so the
link works in a browser without the API token, and only until it expires."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from propgroup.errors import Forbidden

_SALT = "propgroup.document-download"


def sign_download(secret: str, tenant_slug: str, document_id: int) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps([tenant_slug, document_id])


def verify_download(
    secret: str, token: str, tenant_slug: str, document_id: int, max_age: int
) -> None:
    try:
        named = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Forbidden("this download link has expired", code="link_expired") from exc
    except BadSignature as exc:
        raise Forbidden("this download link is not valid", code="bad_link") from exc
    if named != [tenant_slug, document_id]:
        raise Forbidden("this download link is for another document", code="bad_link")
