"""Content type from the first bytes of an upload (文件类型识别), without libmagic.

The client's declared type is not trusted: it decides how a browser renders the download.
"""

from __future__ import annotations

import codecs
from pathlib import PurePosixPath

OCTET_STREAM = "application/octet-stream"
ZIP = "application/zip"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
)

# OOXML files are zip archives; telling them apart needs the member list, so the name decides.
_OOXML = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

# GB18030 because spreadsheets saved as CSV on Chinese Windows are GBK, not UTF-8.
_TEXT_ENCODINGS = ("utf-8", "gb18030")
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def _extension(filename: str | None) -> str:
    if not filename:
        return ""
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def sniff_content_type(head: bytes, filename: str | None = None) -> str:
    """The MIME type of an upload whose first bytes are ``head`` (a chunk, not the whole file)."""
    ext = _extension(filename)
    # PDF readers accept the header anywhere in the first KiB, so must we.
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return _OOXML.get(ext, ZIP) if content_type == ZIP else content_type
    if _is_text(head):
        return "text/csv" if ext == ".csv" else "text/plain"
    return OCTET_STREAM


def _is_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if not head or b"\x00" in head:
        return False
    for encoding in _TEXT_ENCODINGS:
        # Incremental, not final: the chunk may end in the middle of a multi-byte character.
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return not any((ord(c) < 32 or ord(c) == 127) and c not in _ALLOWED_CONTROLS for c in text)
    return False
