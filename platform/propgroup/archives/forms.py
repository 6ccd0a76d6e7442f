"""The portal's handover form (工作交接): the unit, the three signers by login, the reason and a
fixed table of lines, blank rows ignored.

It turns what the browser posts into the service's spec and puts the service's refusal back
beside the fields and lines it names, in the reader's language; every rule stays the service's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from propgroup.archives.handovers import NO_USER, SIGNERS, THREE_PEOPLE
from propgroup.errors import DomainError

LINE_ROWS = 8  # the paper list's table; blank rows are ignored
KIND_LABELS = {
    "archive": _l("Archive item"),
    "seal": _l("Seal"),
    "cheque_book": _l("Cheque book"),
    "open_item": _l("Open item"),
    "other": _l("Other"),
}
SIGNER_LABELS = {
    "leaving": _l("Leaving"),
    "receiving": _l("Taking over"),
    "supervisor": _l("Supervisor"),
}
# A line's problem as the service names it: "lines.2.item_id" or marshmallow's nested lines.
_LINE_PROBLEM = re.compile(r"lines\.(\d+)\.(\w+)")


@dataclass
class LineInput:
    kind: str = "archive"
    description: str = ""
    quantity: str = ""
    item_id: str = ""

    @property
    def blank(self) -> bool:
        return not (self.description or self.item_id)

    def spec(self) -> dict[str, Any]:
        """The line as the service takes it; a number that is not one is passed on as typed,
        for the service's schema to name."""
        spec: dict[str, Any] = {"kind": self.kind, "description": self.description}
        if self.quantity:
            spec["quantity"] = int(self.quantity) if self.quantity.isdecimal() else self.quantity
        if self.item_id:
            spec["item_id"] = int(self.item_id) if self.item_id.isdecimal() else self.item_id
        return spec


@dataclass
class HandoverForm:
    unit_id: str = ""
    leaving: str = ""
    receiving: str = ""
    supervisor: str = ""
    reason: str = ""
    lines: list[LineInput] = field(default_factory=lambda: [LineInput() for _ in range(LINE_ROWS)])
    errors: list[str] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # names of the inputs to mark

    @classmethod
    def from_post(cls, form) -> HandoverForm:
        def text(name: str) -> str:
            return (form.get(name) or "").strip()

        return cls(
            unit_id=text("unit_id"),
            leaving=text("leaving"),
            receiving=text("receiving"),
            supervisor=text("supervisor"),
            reason=text("reason"),
            lines=[
                LineInput(
                    text(f"kind_{i}"),
                    text(f"description_{i}"),
                    text(f"quantity_{i}"),
                    text(f"item_id_{i}"),
                )
                for i in range(LINE_ROWS)
            ],
        )

    def _rows(self) -> list[int]:
        """The rows that are lines, in order: the service numbers lines by this position."""
        return [index for index, line in enumerate(self.lines) if not line.blank]

    def spec(self) -> dict[str, Any]:
        return {
            "unit_id": int(self.unit_id) if self.unit_id.isdecimal() else self.unit_id,
            **{role: getattr(self, role) for role in SIGNERS},
            "reason": self.reason,
            "lines": [self.lines[row].spec() for row in self._rows()],
        }

    def refuse(self, error: DomainError, message: str) -> None:
        """The service's refusal: each problem beside the field or line it names; ``message``
        (the refusal in the reader's words) when it names none."""
        problems = error.errors if isinstance(error.errors, dict) else {}
        for key, detail in problems.items():
            if key in SIGNERS:
                self._signer(key, _first(detail))
            elif key == "unit_id":
                self._mark(_("Choose the unit whose things are handed over."), "unit_id")
            elif key == "reason":
                self._mark(_("Give the reason (1-2000 characters)."), "reason")
            elif key == "lines" and isinstance(detail, dict):  # marshmallow, by line number
                for index, fields in detail.items():
                    for name in fields if isinstance(fields, dict) else ["description"]:
                        self._line(int(index), name)
            elif key == "lines":
                self._mark(_("List at least one thing handed over."), "description_0")
            elif found := _LINE_PROBLEM.fullmatch(key):
                self._line(int(found.group(1)), found.group(2))
        if not self.errors:
            self.errors.append(message)

    def _signer(self, role: str, detail: str) -> None:
        if detail == THREE_PEOPLE:
            message = _("The one leaving, the one taking over and the supervisor are three people.")
            self._mark(message, *SIGNERS)
            return
        label = SIGNER_LABELS[role]
        if detail == NO_USER:
            message = _("%(role)s: no active user has this login.", role=label)
        elif role == "supervisor":
            message = _("%(role)s: may not supervise archives at this unit.", role=label)
        else:
            message = _("%(role)s: holds no role at this unit.", role=label)
        self._mark(message, role)

    def _line(self, index: int, name: str) -> None:
        rows = self._rows()
        row = rows[index] if index < len(rows) else 0
        messages = {
            "kind": _("choose what is handed over"),
            "quantity": _("the quantity is a whole number from 1"),
            "item_id": _(
                "an archive line names an item kept by the unit (its number); other lines none"
            ),
        }
        problem = messages.get(name, _("describe what is handed over (up to 300 characters)"))
        field_name = name if name in messages else "description"
        self._mark(
            _("Line %(number)d: %(problem)s.", number=row + 1, problem=problem),
            f"{field_name}_{row}",
        )

    def _mark(self, message: str, *names: str) -> None:
        if message not in self.errors:
            self.errors.append(message)
        self.invalid.update(names)


def _first(detail: object) -> str:
    return str(detail[0]) if isinstance(detail, list) and detail else str(detail)
