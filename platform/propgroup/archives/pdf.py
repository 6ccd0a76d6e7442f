"""A minimal PDF writer for short certificates: A4 pages of plain text lines, Chinese included.

No PDF library is among the project's dependencies, and a certificate needs only lines of text.
Chinese uses Adobe's standard CJK font STSong-Light (Adobe-GB1) with the UniGB-UCS2-H encoding,
which every conforming reader supplies, so no font is embedded; text is written as UTF-16BE hex.
"""

from __future__ import annotations

A4 = (595, 842)
MARGIN = 56
FONT_SIZE = 11
LEADING = 17
LINES_PER_PAGE = (A4[1] - 2 * MARGIN) // LEADING


def _text_hex(line: str) -> str:
    # UCS-2 only: characters beyond the BMP (rare in names) become U+FFFD. Latin letters
    # are half width (/W), Chinese full width (/DW).
    safe = "".join(c if ord(c) <= 0xFFFF else "\ufffd" for c in line)
    return safe.encode("utf-16-be").hex().upper()


def _page_stream(lines: list[str]) -> bytes:
    parts = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {A4[1] - MARGIN} Td"]
    for line in lines:
        parts.append(f"<{_text_hex(line)}> Tj T*")
    parts.append("ET")
    return "\n".join(parts).encode("ascii")


def render(lines: list[str], title: str = "") -> bytes:
    """The lines on as many A4 pages as they need."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree's number is known
    info = add(f"<< /Title <FEFF{_text_hex(title)}> /Producer (PropGroup) >>".encode("ascii"))
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >> /DW 1000 /W [1 95 500] >>] >>"
    )
    tree = len(objects) + 1 + 2 * len(pages)  # after every page and its content
    kids = []
    for page_lines in pages:
        stream = _page_stream(page_lines)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {A4[0]} {A4[1]}] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>".encode(
                    "ascii"
                )
            )
        )
    refs = " ".join(f"{kid} 0 R" for kid in kids)
    add(f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode("ascii"))  # = tree
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode("ascii")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)
