"""Unit kinds and which kind may sit under which (R-ORG-1)."""

UNIT_KINDS = ("hq", "region", "branch", "department")

# 集团总部 → 地区分公司/中心项目分公司 → 项目分公司;
# departments (财务部, 行政部 …) hang off any of them.
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "hq": (),
    "region": ("hq",),
    "branch": ("region",),
    "department": ("hq", "region", "branch"),
}
