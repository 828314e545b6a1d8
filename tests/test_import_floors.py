"""Every import between the project's packages runs downward (README "Architecture").

Each module of the top-level packages is parsed (not imported) and every import in it is read,
those inside functions too: a lazy import is still a dependency, only hidden. A package may
import its own floor and the floors below, never one above; `api` and `web` share a floor and
may import each other. Migrations are left out: they name the models of other apps by design.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .processes import ROOT

FLOORS = {
    "coworking": 0,
    "spaces": 1,
    "passes": 2,
    "billing": 3,
    "reports": 4,
    "api": 5,
    "web": 5,
    "config": 6,
}

# Upward imports known to be there and due to go, each as (file, imported module). The test fails
# on any other, and on an entry here that is no longer found, so that the list only shrinks.
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def package_modules() -> list[Path]:
    return sorted(
        path
        for package in FLOORS
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def imported_modules(path: Path) -> set[str]:
    """The absolute names of the modules `path` imports, wherever the import statement is."""
    relative = path.relative_to(ROOT)
    # The package a relative import starts from: the module's folder (also for __init__.py).
    package_parts = list(relative.parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(relative))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module or "")
        elif isinstance(node, ast.ImportFrom):
            base = package_parts[: len(package_parts) - (node.level - 1)]
            if node.module:
                names.add(".".join([*base, node.module]))
            else:  # `from .. import web`: the names are modules
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


def upward_imports() -> set[tuple[str, str]]:
    found = set()
    for path in package_modules():
        relative = path.relative_to(ROOT)
        floor = FLOORS[relative.parts[0]]
        for module in imported_modules(path):
            target = module.split(".")[0]
            if target in FLOORS and FLOORS[target] > floor:
                found.add((relative.as_posix(), module))
    return found


# A dotted name of a project module or model in a string: what Django and Celery import later
# (`default_site = "config.admin_site.ChtipassAdminSite"`, a model label, a task path).
DOTTED_NAME = re.compile(rf"({'|'.join(FLOORS)})\.[A-Za-z_][\w.]*")


def upward_names_in_strings() -> set[tuple[str, str]]:
    found = set()
    for path in package_modules():
        relative = path.relative_to(ROOT)
        floor = FLOORS[relative.parts[0]]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(relative))):
            name = node.value if isinstance(node, ast.Constant) else None
            match = DOTTED_NAME.fullmatch(name) if isinstance(name, str) else None
            if match and FLOORS[match.group(1)] > floor:
                found.add((relative.as_posix(), name))
    return found


def test_the_floors_cover_every_package_of_the_project():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}

    assert packages - {"tests", "benchmarks"} <= set(FLOORS)


def test_no_package_imports_a_floor_above_its_own():
    new = upward_imports() - ALLOWED_UPWARD

    assert not new, "upward imports (README 'Architecture'):\n" + "\n".join(
        f"  {path} imports {module}" for path, module in sorted(new)
    )


def test_the_list_of_known_upward_imports_holds_only_ones_still_there():
    gone = ALLOWED_UPWARD - upward_imports()

    assert not gone, "no longer found, remove from ALLOWED_UPWARD:\n" + "\n".join(
        f"  {path} imports {module}" for path, module in sorted(gone)
    )


def test_no_package_names_a_floor_above_its_own_in_a_dotted_string():
    """An import done later by name (an admin site, a middleware, a model label) is one too."""
    assert upward_names_in_strings() == set()


def test_a_lazy_relative_import_of_a_higher_floor_is_caught(tmp_path, monkeypatch):
    """The reader itself: an import inside a function, relative or not, is seen."""
    from . import test_import_floors as floors

    package = tmp_path / "coworking"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "late.py").write_text(
        "def later():\n    from spaces.models import Space\n    from .. import web\n"
        'SITE = "config.admin_site.ChtipassAdminSite"\n'
    )
    monkeypatch.setattr(floors, "ROOT", tmp_path)

    assert floors.upward_imports() == {
        ("coworking/late.py", "spaces.models"),
        ("coworking/late.py", "web"),
    }
    assert floors.upward_names_in_strings() == {
        ("coworking/late.py", "config.admin_site.ChtipassAdminSite")
    }
