"""Deciding from e-mail (issue: signed, single-use, expiring links that open a confirmation
page; GET alone changes nothing)."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.approvals.jobs import notify_step
from propgroup.approvals.links import DecisionLink, LinkExpired, read_link, sign_link
from propgroup.approvals.models import RequestStep
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.jobs.models import OutboxMessage
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import csrf_token
from tests.support.groups import REQUESTER, provision_demo


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "mail_demo", "邮件审批", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def mailbox(tmp_path, monkeypatch):
    monkeypatch.setenv("PROPGROUP_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    return tmp_path / "outbox-mail"


def _submitted(control, group):
    with tenant_session(control, group.schema_name) as session:
        staff = identity.user_principal(
            session.scalar(select(User).where(User.login == "qian.staff"))
        )
        request = approvals.create_request(
            session,
            staff,
            request_type="expense_claim",
            unit_id=org.get_unit_by_code(session, "SH-XTD").id,
            title="打印机墨盒",
            payee="办公用品公司",
            lines=[{"category": "office", "description": "墨盒", "amount": "860.00"}],
        )
        approvals.submit(session, staff, request.id)
        session.commit()
        return request.id


def _mail_links(control, group, request_id, mailbox):
    with tenant_session(control, group.schema_name) as session:
        message = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.job == "approvals.notify_step")
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message.payload["request_id"] == request_id  # queued in the submit's transaction
        assert notify_step(session, **message.payload) == 1  # only li.kuaiji may decide step 1
    [mail] = [
        BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in mailbox.glob("*.eml")
    ]
    assert mail["To"] == "li.kuaiji@demo.propgroup.test"
    body = mail.get_content()
    assert "人民币捌佰陆拾元整" in body
    approve, reject = re.findall(r"(/t/\S+/approvals/email/\S+)", body)
    return approve, reject


def _step(control, group, request_id, seq=1):
    with tenant_session(control, group.schema_name) as session:
        return session.scalar(
            select(RequestStep).where(RequestStep.request_id == request_id, RequestStep.seq == seq)
        )


def test_the_approver_gets_a_mail_and_the_link_decides_only_after_confirmation(
    client, control, group, mailbox
):
    request_id = _submitted(control, group)
    approve, _ = _mail_links(control, group, request_id, mailbox)
    page = client.get(approve)
    assert page.status_code == 200 and "打印机墨盒" in page.text
    assert _step(control, group, request_id).status == "pending"  # GET alone changes nothing
    done = client.post(approve, data={"csrf_token": csrf_token(page.text), "comment": "同意"})
    assert done.status_code == 200 and 'data-testid="decided"' in done.text
    step = _step(control, group, request_id)
    with tenant_session(control, group.schema_name) as session:
        li = session.scalar(select(User).where(User.login == "li.kuaiji"))
    assert (step.status, step.decided_by, step.comment) == ("approved", li.id, "同意")


def test_a_used_link_cannot_decide_again(client, control, group, mailbox):
    request_id = _submitted(control, group)
    approve, reject = _mail_links(control, group, request_id, mailbox)
    token = csrf_token(client.get(approve).text)
    assert client.post(approve, data={"csrf_token": token}).status_code == 200
    again = client.post(approve, data={"csrf_token": token})
    assert again.status_code == 409 and 'data-testid="refusal"' in again.text
    assert client.get(reject).status_code == 409  # the other link of that step is spent too
    assert _step(control, group, request_id, seq=2).status == "pending"


def test_a_tampered_link_is_refused(client, group, control, mailbox):
    request_id = _submitted(control, group)
    approve, _ = _mail_links(control, group, request_id, mailbox)
    assert client.get(approve[:-4] + "AAAA").status_code == 422
    assert _step(control, group, request_id).status == "pending"


def test_links_expire_and_belong_to_one_group():
    token = sign_link("secret", DecisionLink("acme", 1, 1, 1, 7, True))
    assert read_link("secret", token, "acme").user_id == 7
    with pytest.raises(LinkExpired):
        read_link("secret", token, "acme", max_age=-1)
    with pytest.raises(Exception, match="another group"):
        read_link("secret", token, "other")
