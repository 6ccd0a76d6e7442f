"""Spreadsheet bombs: a few kilobytes of xlsx that stand for millions of cells when read naively."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from collections.abc import Callable

SHEET = "xl/worksheets/sheet1.xml"


def crafted(data: bytes, *, dimension: str | None = None, far_row: int | None = None) -> bytes:
    """The xlsx ``data`` with its first sheet declaring ``dimension`` (e.g. ``A1:XFD2000``; ""
    declares none), and with one more cell at row ``far_row`` (every row number before it is a
    row when read)."""

    def edit(xml: str) -> str:
        if dimension is not None:
            declared = f'<dimension ref="{dimension}"/>' if dimension else ""
            xml, found = re.subn(r'<dimension ref="[^"]*"\s*/>', declared, xml)
            assert found == 1, "the sheet declares no dimension to change"
        if far_row:
            cell = f'<row r="{far_row}"><c r="A{far_row}" t="inlineStr"><is><t>x</t></is></c></row>'
            xml = xml.replace("</sheetData>", cell + "</sheetData>")
        return xml

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            target.writestr(item, edit(body.decode()).encode() if item.filename == SHEET else body)
    return out.getvalue()


def peak_bytes(action: Callable[[], object]) -> int:
    """The most memory Python held while ``action`` ran."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
