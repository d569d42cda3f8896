"""Import directions, read from the source: the import graph between our own modules (glowworm, gallery,
processing; function-local imports included, migrations and tests left out) has no circles, processing never
imports from gallery.frames, gallery.models never imports processing, and the pure modules import nothing from
Django or from the rest of the project (only each other). No database, no Django setup needed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("glowworm", "gallery", "processing")
# Bytes or data in, results out: no ORM, settings, Redis or Channels (docs/style.md).
PURE = {
    "processing.imaging",
    "processing.specs",
    "processing.formats",
    "processing.stripping",
    "gallery.frames.schedules",
    "gallery.frames.slides",
}
FRAMEWORKS = {"django", "channels", "asgiref", "daphne", "rq", "django_rq", "redis", "ninja"}


def project_modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, Path]:
    """Dotted name -> file, for every module of the packages, without migrations and tests."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts  # relative: the checkout may sit under tests/
            if "migrations" in parts or "tests" in parts:
                continue
            modules[".".join(parts).removesuffix(".__init__")] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(dotted name, line) for every import statement anywhere in the file, at any depth: `import a.b` gives a.b,
    `from a import b` gives a.b (which resolve() turns into the module a.b, or the module a that defines b), and
    relative imports are made absolute."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name lives in (the longest matching module name), or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported project module: line of its first import}. Importing a.b.c also runs the __init__ of a
    and a.b, so those count too, except a module's own parent packages (already loading when it runs)."""
    graph: dict[str, dict[str, int]] = {module: {} for module in modules}
    for module, path in modules.items():
        for name, line in imported_names(module, path):
            target = resolve(name, modules)
            while target is not None and target != module and not module.startswith(target + "."):
                graph[module].setdefault(target, line)
                target = resolve(target.rpartition(".")[0], modules)
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One concrete circle (a, b, …, a) per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [_path_round(group, graph) for group in groups]


def _path_round(group: set[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """The shortest way from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(graph[module]):
                if target == start:
                    return paths[module] + [start]
                if target in group and target not in paths:
                    paths[target] = paths[module] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no way round {group}")


def describe(circle: list[str], graph: dict[str, dict[str, int]]) -> str:
    return (
        " -> ".join(
            f"{module} (line {graph[module][target]})" for module, target in zip(circle, circle[1:], strict=False)
        )
        + f" -> {circle[-1]}"
    )


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    found = project_modules()
    # The walk sees the whole project: apps, their nested packages and the project package.
    assert {"glowworm.settings", "gallery.models", "gallery.frames.consumers", "processing.jobs"} <= set(found)
    assert not any(".migrations" in name for name in found)
    return found


def test_project_modules_import_each_other_without_circles(modules):
    graph = import_graph(modules)
    assert "gallery.frames.models" in graph["gallery.frames.consumers"]  # the graph is not empty by accident
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(describe(circle, graph) for circle in found)


def test_processing_never_imports_from_gallery_frames(modules):
    offending = [
        f"{module} line {line}: {name}"
        for module, path in modules.items()
        if module == "processing" or module.startswith("processing.")
        for name, line in imported_names(module, path)
        if name == "gallery.frames" or name.startswith("gallery.frames.")
    ]
    assert offending == [], "processing must not depend on the frames app:\n" + "\n".join(offending)


NESTED_APPS = ("gallery.frames", "gallery.sharing", "gallery.people")


@pytest.mark.parametrize("app", NESTED_APPS)
def test_only_the_project_layer_imports_a_nested_app(modules, app):
    """gallery and processing never import a nested app (it hears about them through signals); glowworm mounts it."""
    assert any(module.startswith(app + ".") for module in modules)
    offending = [
        f"{module} line {line}: {name}"
        for module, path in modules.items()
        if not (module == app or module.startswith(app + ".") or module.split(".")[0] == "glowworm")
        for name, line in imported_names(module, path)
        if name == app or name.startswith(app + ".")
    ]
    assert offending == [], f"only {app} itself and glowworm may import {app}:\n" + "\n".join(offending)


def test_gallery_models_never_import_processing(modules):
    offending = [
        f"line {line}: {name}"
        for name, line in imported_names("gallery.models", modules["gallery.models"])
        if name.split(".")[0] == "processing"
    ]
    assert offending == []


def test_pure_modules_import_neither_django_nor_the_rest_of_the_project(modules):
    assert PURE <= set(modules)
    offending = []
    for module in sorted(PURE):
        for name, line in imported_names(module, modules[module]):
            top = name.split(".")[0]
            if top in FRAMEWORKS or (top in PACKAGES and resolve(name, modules) not in PURE):
                offending.append(f"{module} line {line}: {name}")
    assert offending == [], "pure modules must stay pure:\n" + "\n".join(offending)


# The checks above must be able to fail: the same functions on a small made-up project.


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_circle_through_a_function_local_import_is_found_and_named(tmp_path):
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/models.py": "import os\n\ndef later():\n    from app import views  # hidden in a function\n",
            "app/views.py": "from app.services import create\n",
            "app/services.py": "from . import models\n",
            "app/other.py": "from app.models import later\n",
            "app/migrations/0001_initial.py": "from app import other\nimport app.views\n",
        },
    )
    modules = project_modules(tmp_path, ("app",))
    assert set(modules) == {"app", "app.models", "app.views", "app.services", "app.other"}
    graph = import_graph(modules)
    assert graph["app.services"] == {"app.models": 1}  # relative import made absolute
    assert graph["app.other"] == {"app.models": 1}
    assert graph["app"] == {}
    found = circles(graph)
    assert found == [["app.models", "app.views", "app.services", "app.models"]]
    assert describe(found[0], graph) == (
        "app.models (line 4) -> app.views (line 1) -> app.services (line 1) -> app.models"
    )


def test_without_the_hidden_import_there_is_no_circle(tmp_path):
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/models.py": "import os\n",
            "app/views.py": "from app.services import create\nfrom app import models\n",
            "app/services.py": "from . import models\n",
        },
    )
    graph = import_graph(project_modules(tmp_path, ("app",)))
    assert graph["app.views"] == {"app.services": 1, "app.models": 2}
    assert circles(graph) == []


def test_a_circle_through_a_package_init_is_found(tmp_path):
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/sub/__init__.py": "from app.tools import helper\n",
            "app/sub/things.py": "",
            "app/tools.py": "import app.sub.things\n",
        },
    )
    graph = import_graph(project_modules(tmp_path, ("app",)))
    assert graph["app.tools"] == {"app.sub.things": 1, "app.sub": 1}  # loading app.sub.things runs app/sub/__init__
    assert graph["app.sub.things"] == {}  # its own package is no import of its own
    assert circles(graph) == [["app.sub", "app.tools", "app.sub"]]
