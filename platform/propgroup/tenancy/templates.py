"""Reading tenant templates and group files: TOML parsed with tomllib, checked with marshmallow."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError

from propgroup.config import PROJECT_HOME
from propgroup.errors import InvalidInput
from propgroup.tenancy.schemas import GroupSchema, TemplateSchema


def flatten_messages(messages: Any, prefix: str = "") -> list[str]:
    """marshmallow's nested messages as ``units[3].parent: unknown unit code`` lines."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(flatten_messages(value, path))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" if prefix else m for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in flatten_messages(m, prefix)]
    return [f"{prefix}: {messages}"]


def _load_toml(path: Path, schema: Schema) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})", code="file_unreadable") from exc
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 ({exc.reason})", code="malformed_toml") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: {exc}", code="malformed_toml") from exc
    try:
        return schema.load(document)
    except ValidationError as exc:
        lines = flatten_messages(exc.messages)
        raise InvalidInput(
            f"{path}: " + "; ".join(lines), code="invalid_template", errors=exc.messages
        ) from exc


TEMPLATES = PROJECT_HOME / "tenants" / "templates"


def load_template(path: str | Path) -> dict[str, Any]:
    return _load_toml(Path(path), TemplateSchema())


@lru_cache(maxsize=16)  # read once per process, not once per tenant a migration completes
def template_named(reference: str, folder: Path = TEMPLATES) -> dict[str, Any] | None:
    """The template a tenant records (``code@version``) from the templates folder, as it reads
    today (a later version of the same code is the one to complete a group from). Shared: not
    to be changed by the caller."""
    code = reference.split("@")[0]
    for path in sorted(folder.glob("*.toml")):
        try:
            info = tomllib.loads(path.read_text("utf-8")).get("template", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue  # another broken file does not stand in the way; the matching one is checked
        if isinstance(info, dict) and info.get("code") == code:
            return load_template(path)
    return None


def load_group(path: str | Path) -> dict[str, Any]:
    """A group file plus its template, resolved relative to the group file's folder."""
    path = Path(path)
    group = _load_toml(path, GroupSchema())
    template_path = Path(group["tenant"]["template"])
    if not template_path.is_absolute():
        template_path = path.parent / template_path
    group["template"] = load_template(template_path)
    group["template_path"] = template_path
    _check_role_units(path, group)
    return group


def unit_codes(group: dict[str, Any]) -> set[str]:
    """Codes of the group's units plus the departments the template adds to each of them."""
    codes = {unit["code"] for unit in group["units"]}
    departments = [d["code"] for d in group["template"]["departments"]]
    codes |= {
        f"{unit['code']}-{dept}"
        for unit in group["units"]
        if unit["kind"] != "department"
        for dept in departments
    }
    return codes


def _check_role_units(path: Path, group: dict[str, Any]) -> None:
    codes = unit_codes(group)
    for index, user in enumerate(group["users"]):
        for role_index, role in enumerate(user["roles"]):
            if role["unit"] not in codes:
                where = f"users[{index}].roles[{role_index}].unit"
                raise InvalidInput(
                    f"{path}: {where}: unknown unit code {role['unit']!r}",
                    code="invalid_template",
                    errors={where: ["unknown unit code"]},
                )
