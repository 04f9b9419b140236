"""The import graph of ``auth_token``: each module imports only from the layers its component may
use, and no module imports back into one that imports it (imports inside functions count;
``if TYPE_CHECKING:`` blocks do not, as they never run). The contributing page draws the same
graph."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import auth_token

PACKAGE = Path(auth_token.__file__).parent

# Each module's component, by its dotted name (the longest matching prefix wins).
COMPONENTS = {
    "auth_token": "root",
    "auth_token.conf": "base",
    "auth_token.exceptions": "base",
    "auth_token.signals": "base",
    "auth_token.reasons": "base",
    "auth_token.client_ip": "base",
    "auth_token.landing": "base",
    "auth_token.scopes": "base",
    "auth_token.keys": "keys",
    "auth_token.models": "models",
    "auth_token.rules": "rules",
    "auth_token.state": "state",
    "auth_token.cache": "cache",
    "auth_token.local_cache": "cache",
    "auth_token.journal": "cache",
    "auth_token.lookup": "cache",
    "auth_token.credentials": "resolver",
    "auth_token.resolver": "resolver",
    "auth_token.services": "services",
    "auth_token.backends": "backends",
    "auth_token.throttling": "backends",
    "auth_token.middleware": "middleware",
    "auth_token.receivers": "receivers",
    "auth_token.decorators": "web",
    "auth_token.views": "web",
    "auth_token.urls": "web",
    "auth_token.forms": "web",
    "auth_token.context_processors": "web",
    "auth_token.templatetags": "web",
    "auth_token.admin": "admin",
    "auth_token.admin_takeover": "admin",
    "auth_token.contrib.rest_framework": "drf",
    "auth_token.management": "commands",
    "auth_token.checks": "checks",
    "auth_token.apps": "apps",
    "auth_token.test": "testing",
    "auth_token.pytest_plugin": "testing",
}

# What each component may import besides itself. "base" (settings, exceptions, signals, reason
# constants, client address) is a leaf that any component may use.
LOW = {"base", "keys", "models"}
ALLOWED = {
    "base": set(),
    "keys": {"base"},
    "models": {"base"},
    "rules": LOW,
    "state": LOW,
    "cache": LOW,
    "resolver": LOW | {"rules", "state", "cache"},
    "backends": LOW | {"rules"},
    "services": LOW | {"rules", "state", "cache", "backends"},
    "middleware": LOW | {"resolver", "services", "state", "rules", "web"},
    # Request entry points besides the middleware: they resolve a request the middleware did not
    # see (Django's test client, DRF without the middleware) through the same resolver.
    "receivers": LOW | {"resolver", "services", "state", "rules", "cache", "backends", "drf"},
    "drf": LOW | {"resolver", "services", "state", "rules", "backends"},
    "web": LOW | {"services", "state", "rules", "backends"},
    "admin": LOW | {"services", "state", "rules", "backends"},
    "commands": LOW | {"services", "state", "rules", "backends", "drf"},
    "checks": LOW | {"backends", "admin", "cache"},
    "testing": LOW | {"services", "state", "rules", "backends"},
    # Wiring at start-up and the package root's documented lazy wrappers.
    "apps": {"checks", "receivers", "services", "models", "admin", "base"},
    "root": {"services", "models"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def component(module: str) -> str:
    for prefix in sorted(COMPONENTS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return COMPONENTS[prefix]
    raise AssertionError(f"{module} belongs to no component: add it to COMPONENTS")


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (PACKAGE.parent / relative).is_dir()


class Imports(ast.NodeVisitor):
    """The ``auth_token`` modules one module imports at run time."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names if alias.name.startswith("auth_token"))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - node.level + 1]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        if not source.startswith("auth_token"):
            return
        for alias in node.names:  # "from auth_token import cache" imports a module
            submodule = f"{source}.{alias.name}"
            self.found.add(submodule if is_module(submodule) else source)


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = module_name(path)
        visitor = Imports(module, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), str(path)))
        graph[module] = visitor.found - {module}
    return graph


def test_every_import_follows_an_allowed_edge():
    wrong = sorted(
        f"{module} ({component(module)}) imports {imported} ({component(imported)})"
        for module, imports in import_graph().items()
        for imported in imports
        if component(imported) != component(module) and component(imported) not in ALLOWED[component(module)]
    )
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_back_into_its_importers():
    graph = import_graph()
    # The root's wrappers import services lazily, by design; every submodule "imports" the root.
    graph["auth_token"] = set()
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_allowed_components_form_no_cycle():
    TopologicalSorter(ALLOWED).prepare()


def test_models_import_neither_rules_nor_state_nor_services():
    assert not {component(module) for module in import_graph()["auth_token.models"]} - {"base"}


def test_the_checker_sees_imports_inside_functions(tmp_path):
    visitor = Imports("auth_token.models", is_package=False)
    visitor.visit(ast.parse("def f():\n    from auth_token import services\n"))
    assert visitor.found == {"auth_token.services"}
    visitor = Imports("auth_token.models", is_package=False)
    visitor.visit(
        ast.parse(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from auth_token import services\n"
        )
    )
    assert visitor.found == set()
