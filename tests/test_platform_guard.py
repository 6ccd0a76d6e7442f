"""`platform/` is a source root, never a package: a `platform` package would shadow the stdlib."""

from __future__ import annotations

import importlib
import sysconfig
from pathlib import Path

from propgroup.config import PROJECT_HOME


def test_platform_folder_has_no_init_and_stdlib_platform_wins():
    assert not (PROJECT_HOME / "platform" / "__init__.py").exists()
    platform = importlib.import_module("platform")
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
