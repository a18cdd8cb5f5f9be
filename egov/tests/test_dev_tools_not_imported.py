"""Development tools (the fake Zalo, the test helpers) are never imported by product code.

The attack: a product module that imports ``fakezalo`` or ``testing`` ships the fake (its consent page
grants tokens to anyone, its control API rewrites state) or the test stack into production, or
silently depends on them. Every ``.py`` of the product apps outside their ``tests/`` folders is parsed
and its imports (top-level or inside a function, absolute ``import``/``from`` forms) are checked.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = (
    "provinces",
    "offices",
    "dossiers",
    "notifications",
    "zalo",
    "broadcasts",
    "supplements",
    "ratings",
    "egov",
)
DEV_TOOLS = ("fakezalo", "testing")


def product_modules():
    for app in PRODUCT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" not in path.relative_to(ROOT).parts:
                yield path


def dev_tool_imports(source, filename="<module>"):
    """``(line, module)`` of each import of a development tool in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] in DEV_TOOLS]
    return found


def test_the_product_apps_are_all_walked():
    modules = {path.relative_to(ROOT).as_posix() for path in product_modules()}
    assert {"zalo/client.py", "zalo/webhook.py", "egov/settings.py", "notifications/delivery.py"} <= modules
    assert not any("/tests/" in module for module in modules)


def test_no_product_module_imports_a_development_tool():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in product_modules()
        for line, module in dev_tool_imports(path.read_text(encoding="utf-8"), str(path))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "import fakezalo",
        "import fakezalo.state as s",
        "from fakezalo import run_in_thread",
        "from fakezalo.server import main",
        "import testing.live",
        "from testing import live",
        "def lazy():\n    from testing.zalo import APP\n    return APP",
    ],
)
def test_the_check_catches_each_import_form(source):
    assert dev_tool_imports(source) != []


@pytest.mark.parametrize("source", ["import zalo.client", "from . import testing", "from .testing import x", "x = 1"])
def test_the_check_ignores_other_imports(source):
    assert dev_tool_imports(source) == []
