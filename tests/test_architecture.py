"""The layout rules of the package (docs/architecture.md), checked on the source itself.

Each test reads seqcount/ as text (ast), so a new module that breaks a rule fails here.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seqcount"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100
#: may import the private kernel layer: the checked wrappers and the sketch classes
KERNEL_USERS = ("seqcount._kernels", "seqcount.hashing", "seqcount.sketches", "seqcount.tokenize")
#: may import seqcount modules inside functions: the CLI, so that --help loads no numba
LAZY_IMPORTERS = ("seqcount.cli",)


def modules() -> dict[str, Path]:
    """Dotted name -> path of every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` in ``module`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path):
    """``(imported module, imported name or None, inside a function)`` of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    inner = {id(n) for f in funcs for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, id(node) in inner
        elif isinstance(node, ast.ImportFrom):
            src = resolve(module, path, node)
            for alias in node.names:
                sub = f"{src}.{alias.name}"
                target = sub if sub in MODULES else src
                yield target, (None if target == sub else alias.name), id(node) in inner


MODULES = modules()


def ours(name: str) -> bool:
    return name == "seqcount" or name.startswith("seqcount.")


def test_the_layers_contract_holds():
    """import-linter's layers contract of pyproject.toml: imports point down the layers."""
    importlinter = pytest.importorskip("importlinter.cli", reason="pip install import-linter")
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        assert importlinter.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0
    finally:
        os.chdir(old)


def test_modules_and_functions_are_small():
    long_modules, long_functions = [], []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_MODULE_LINES:
            long_modules.append((name, text.count("\n")))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long_functions.append((f"{name}.{node.name}", size))
    assert long_modules == [], f"modules over {MAX_MODULE_LINES} lines"
    assert long_functions == [], f"functions over {MAX_FUNCTION_LINES} lines"


def test_no_module_imports_another_modules_private_names():
    bad = []
    for name, path in MODULES.items():
        for target, imported, _ in imports(name, path):
            if not ours(target) or target == name:
                continue
            if imported is not None and imported.startswith("_") and not imported.startswith("__"):
                bad.append(f"{name}: {imported} from {target}")
            private = any(p.startswith("_") and not p.startswith("__") for p in target.split("."))
            if private and not name.startswith(KERNEL_USERS):
                bad.append(f"{name}: imports the private module {target}")
    assert bad == []


def test_seqcount_modules_are_imported_at_the_top():
    """An import inside a function hides a dependency (and once hid import cycles); only the
    CLI loads the library lazily, to keep --help fast."""
    bad = [
        f"{name}: {target}"
        for name, path in MODULES.items()
        if not name.startswith(LAZY_IMPORTERS)
        for target, _, inside in imports(name, path)
        if inside and ours(target)
    ]
    assert bad == []


def test_no_import_cycles_even_through_imports_inside_functions():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _, _ in imports(name, path):
            if target in MODULES and target != name:
                graph[name].add(target)
    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ re-exporting its own submodules is not a cycle of the layers
    cycles = [c for c in cycles if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert cycles == []


def test_help_loads_neither_numba_nor_pyarrow():
    """``seqcount --help`` and each command's --help stay fast: no numba, no pyarrow."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from seqcount.cli import cli\n"
        "for args in ([], ['count'], ['compare'], ['merge'], ['report'], ['bounds']):\n"
        "    r = CliRunner().invoke(cli, args + ['--help'])\n"
        "    assert r.exit_code == 0, r.output\n"
        "heavy = ('numba', 'pyarrow', 'matplotlib', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
