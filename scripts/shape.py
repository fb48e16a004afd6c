#!/usr/bin/env python
"""The shape of the package, measured from its source (no imports of it): what CI and the architecture tests check.

    python scripts/shape.py            # report: cycles, function-level imports, the largest modules and functions
    python scripts/shape.py --check    # exit 1 when a limit below is broken (CI)

Counted over src/emostudio, every `import` / `from … import` of an emostudio module wherever it stands: at the top,
inside functions, under `if TYPE_CHECKING:`. Limits (see /work/shared/architecture.md and CONTRIBUTING):
- no import cycle among the modules (counting all of the above);
- at most MAX_FUNCTION_IMPORTS function-level emostudio imports outside cli/ (each for an optional extra or for
  import cost, never to dodge a cycle);
- no module over MAX_MODULE_LINES lines (model/encoder.py excepted) and no function over MAX_FUNCTION_LINES.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "emostudio"
MAX_FUNCTION_IMPORTS = 15
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MODULE_EXCEPTIONS = {"emostudio.model.encoder"}  # the network in one file, as the reference implementation is


@dataclass
class Import:
    module: str  # the importing module
    line: int
    target: str  # the imported emostudio module
    in_function: bool
    type_checking: bool
    text: str


@dataclass
class Shape:
    modules: dict[str, Path]
    imports: list[Import] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    functions: list[tuple[str, str, int]] = field(default_factory=list)  # (module, qualified name, lines)

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {m: set() for m in self.modules}
        for imp in self.imports:
            if imp.target != imp.module:
                out[imp.module].add(imp.target)
        return out

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan)."""
        return _sccs(self.edges())

    def function_imports(self) -> list[Import]:
        """Function-level emostudio imports outside cli/."""
        return [
            i
            for i in self.imports
            if i.in_function and not i.module.startswith("emostudio.cli") and i.module != "emostudio.__main__"
        ]

    def large_modules(self) -> list[tuple[str, int]]:
        return sorted(
            ((m, n) for m, n in self.lines.items() if n > MAX_MODULE_LINES and m not in MODULE_EXCEPTIONS),
            key=lambda x: -x[1],
        )

    def long_functions(self) -> list[tuple[str, str, int]]:
        return sorted((f for f in self.functions if f[2] > MAX_FUNCTION_LINES), key=lambda f: -f[2])


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict[str, Path]
) -> list[str]:
    """The emostudio modules an import statement imports (a name from a package counts as the package)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = module.split(".") if is_package else module.split(".")[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, base] if base else parts)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    out = []
    for name in names:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules:
            out.append(name)
    return sorted(set(out))


class _Visitor(ast.NodeVisitor):
    def __init__(self, shape: Shape, module: str, is_package: bool):
        self.shape, self.module, self.is_package = shape, module, is_package
        self.depth = 0
        self.type_checking = 0
        self.names: list[str] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.names.append(node.name)
        end = node.end_lineno or node.lineno
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        self.shape.functions.append((self.module, ".".join(self.names), end - start + 1))
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        self.names.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.names.append(node.name)
        self.generic_visit(node)
        self.names.pop()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for target in _targets(node, self.module, self.is_package, self.shape.modules):
            self.shape.imports.append(
                Import(
                    self.module,
                    node.lineno,
                    target,
                    self.depth > 0,
                    self.type_checking > 0,
                    ast.unparse(node),
                )
            )

    visit_Import = _import
    visit_ImportFrom = _import


def measure(root: Path = ROOT) -> Shape:
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    shape = Shape(modules)
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        shape.lines[name] = len(text.splitlines())
        _Visitor(shape, name, path.name == "__init__.py").visit(ast.parse(text, str(path)))
    return shape


def _sccs(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def report(shape: Shape) -> list[str]:
    """Human lines; the ones that start with ✗ break a limit."""
    lines = []
    cycles = shape.cycles()
    lines.append(f"{'✗' if cycles else '✓'} import cycles: {len(cycles)}")
    lines += [f"    {' ↔ '.join(c)}" for c in cycles]
    fn = shape.function_imports()
    lines.append(
        f"{'✗' if len(fn) > MAX_FUNCTION_IMPORTS else '✓'} function-level emostudio imports outside cli/: "
        f"{len(fn)} (at most {MAX_FUNCTION_IMPORTS})"
    )
    lines += [f"    {i.module}:{i.line}  {i.text}" for i in fn]
    big = shape.large_modules()
    lines.append(f"{'✗' if big else '✓'} modules over {MAX_MODULE_LINES} lines: {len(big)}")
    lines += [f"    {m}: {n}" for m, n in big]
    long = shape.long_functions()
    lines.append(f"{'✗' if long else '✓'} functions over {MAX_FUNCTION_LINES} lines: {len(long)}")
    lines += [f"    {m}.{f}: {n}" for m, f, n in long]
    top = sorted(shape.lines.items(), key=lambda x: -x[1])[:5]
    lines.append("  largest modules: " + ", ".join(f"{m} {n}" for m, n in top))
    longest = sorted(shape.functions, key=lambda f: -f[2])[:5]
    lines.append("  longest functions: " + ", ".join(f"{m}.{f} {n}" for m, f, n in longest))
    return lines


def main(argv: list[str]) -> int:
    lines = report(measure())
    print("\n".join(lines))
    return 1 if "--check" in argv and any(line.startswith("✗") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
