"""Records the archives capability writes itself: a carried-out destruction's list (CSV) and
certificate (PDF), and a signed handover list (PDF)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.archives import pdf
from propgroup.archives.models import ArchiveItem, DestructionList, Handover, HandoverLine
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit


def list_csv(session: Session, items: Sequence[ArchiveItem]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "class", "unit", "fiscal_year", "period", "volume", "numbers", "title", "due_on"]
    )
    for item in items:
        numbers = f"{item.number_from}-{item.number_to}" if item.number_from else ""
        writer.writerow(
            [
                item.id,
                item.class_code,
                org.get_unit(session, item.unit_id).code,
                item.fiscal_year,
                item.period or "",
                item.volume or "",
                numbers,
                item.title,
                item.due_on,
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # Excel opens a BOM-marked CSV as UTF-8


def certificate(
    session: Session,
    listing: DestructionList,
    unit: OrgUnit,
    items: Sequence[ArchiveItem],
    principal: Principal,
    supervisors: tuple[User, User],
) -> bytes:
    request = session.get(ApprovalRequest, listing.approval_request_id)
    steps = approvals.steps_of(session, request, request.revision)
    signers = [session.get(User, step.decided_by) for step in steps if step.decided_by]
    lines = [
        "会计档案销毁证明 / Certificate of destruction of accounting records",
        "",
        f"销毁清册 / List: #{listing.id}    单位 / Unit: {unit.name} ({unit.code})",
        f"销毁日期 / Destroyed on: {approvals.today(session).isoformat()}",
        f"批准 / Approved through request #{request.id} by: "
        + ", ".join(f"{u.display_name} ({u.login})" for u in signers),
        f"执行 / Carried out by: {principal.name}",
        f"档案部门监销人 / Archives supervisor: {supervisors[0].display_name} "
        f"({supervisors[0].login})",
        f"会计部门监销人 / Accounting supervisor: {supervisors[1].display_name} "
        f"({supervisors[1].login})",
        f"件数 / Items: {len(items)}",
        "",
    ]
    for item in items:
        numbers = f" No.{item.number_from}-{item.number_to}" if item.number_from else ""
        period = f"-{item.period}" if item.period else ""
        lines.append(
            f"#{item.id} {item.class_code} {item.fiscal_year}{period}{numbers} {item.title}"[:90]
        )
    return pdf.render(lines, title=f"会计档案销毁证明 #{listing.id}")


HANDOVER_KINDS_ZH = {
    "archive": "会计档案",
    "seal": "印章",
    "cheque_book": "支票簿",
    "open_item": "未了事项",
    "other": "其他",
}


def handover_pdf(
    handover: Handover, unit: OrgUnit, people: dict[str, User], lines: Sequence[HandoverLine]
) -> bytes:
    """The signed handover list (移交清册): who, what, signed when by whom."""

    def signed(role: str) -> str:
        moment = getattr(handover, f"{role}_signed_at")
        person = people[role]
        return f"{person.display_name} ({person.login}) {moment:%Y-%m-%d %H:%M} UTC"

    text = [
        "工作交接移交清册 / Handover list",
        "",
        f"编号 / No.: #{handover.id}    单位 / Unit: {unit.name} ({unit.code})",
        f"事由 / Reason: {handover.reason}"[:90],
        f"移交人 / Leaving: {signed('leaving')}",
        f"接管人 / Taking over: {signed('receiving')}",
        f"监交人 / Supervisor: {signed('supervisor')}",
        "",
    ]
    for number, line in enumerate(lines, start=1):
        item = f" (#{line.item_id})" if line.item_id else ""
        text.append(
            f"{number}. {HANDOVER_KINDS_ZH[line.kind]}{item} x{line.quantity} {line.description}"[
                :90
            ]
        )
    return pdf.render(text, title=f"工作交接移交清册 #{handover.id}")
