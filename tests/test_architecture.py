"""The package's shape: imports point down the layers (import-linter), no cycle, few function-level imports,
small modules and functions, and the light imports stay light.

- `lint-imports` keeps the contracts in pyproject.toml, and breaks them when a copy of the package gets one bad
  import (a lower module importing a higher one, at the top or inside a function).
- scripts/shape.py, counting every import wherever it stands (top, function, TYPE_CHECKING): no cycle, at most
  15 function-level emostudio imports outside cli/, no module over 500 lines (model/encoder.py excepted) and no
  function over 80.
- `emostudio --help`'s parser and `import emostudio.results` never import torch.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def _shape():
    spec = importlib.util.spec_from_file_location("shape", ROOT / "scripts" / "shape.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["shape"] = mod
    spec.loader.exec_module(mod)
    return mod


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [LINT, "--no-cache", "--no-logo"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_import_contracts_hold():
    run = _lint(ROOT, ROOT / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of src/emostudio and the contracts (pyproject.toml) to break on purpose."""
    root = tmp_path_factory.mktemp("shape")
    shutil.copytree(
        ROOT / "src" / "emostudio", root / "src" / "emostudio", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "records.py",
            "from emostudio import recognize  # noqa\n",
            "emostudio.records -> emostudio.recognize",
        ),
        (
            "runs.py",
            "def _later():\n    from emostudio.server.analyze import service  # noqa\n",
            "emostudio.runs -> emostudio.server.analyze.service",
        ),
        ("engine.py", "import emostudio.pipeline  # noqa\n", "emostudio.engine -> emostudio.pipeline"),
    ],
    ids=["base-imports-facade", "function-level-import", "engine-imports-pipeline"],
)
def test_a_lower_module_importing_a_higher_one_breaks_the_layers(package_copy, module, line, broken):
    path = package_copy / "src" / "emostudio" / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\n" + line, encoding="utf-8")
        run = _lint(package_copy, package_copy / "src")
    finally:
        path.write_text(original, encoding="utf-8")
    assert run.returncode != 0, run.stdout
    assert "layers: every import points down BROKEN" in run.stdout
    assert broken in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "broken"),
    [
        (
            "server/live/service.py",
            "from emostudio.server.analyze import ui  # noqa\n",
            "a server feature uses another feature's service only, never its ui or routes BROKEN",
            "emostudio.server.live.service -> emostudio.server.analyze.ui",
        ),
        (
            "server/profiles/service.py",
            "from emostudio.server.evaluate import service  # noqa\n",
            "server: app -> the page -> features (analyze lowest: its Service is everyone's) -> http plumbing BROKEN",
            "emostudio.server.profiles.service -> emostudio.server.evaluate.service",
        ),
        (
            "server/evaluate/service.py",
            "from emostudio.server.evaluate import routes  # noqa\n",
            "server features: ui and routes -> service, and no feature reaches into another's ui or routes BROKEN",
            "emostudio.server.evaluate.service -> emostudio.server.evaluate.routes",
        ),
        (
            "server/http.py",
            "from emostudio.server.analyze import service  # noqa\n",
            "server: app -> the page -> features (analyze lowest: its Service is everyone's) -> http plumbing BROKEN",
            "emostudio.server.http -> emostudio.server.analyze.service",
        ),
    ],
    ids=[
        "feature-imports-another-ui",
        "features-import-each-other",
        "service-imports-routes",
        "http-imports-feature",
    ],
)
def test_server_features_keep_to_their_contracts(package_copy, module, line, contract, broken):
    path = package_copy / "src" / "emostudio" / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\n" + line, encoding="utf-8")
        run = _lint(package_copy, package_copy / "src")
    finally:
        path.write_text(original, encoding="utf-8")
    assert run.returncode != 0, run.stdout
    assert contract in " ".join(run.stdout.split()) and broken in run.stdout


def test_no_cycle_and_few_function_level_imports():
    shape = _shape().measure()
    assert shape.cycles() == []
    inside = shape.function_imports()
    assert len(inside) <= 15, [f"{i.module}:{i.line} {i.text}" for i in inside]
    # TYPE_CHECKING imports are counted too, and none points up a layer (the contract checks that)
    assert all(i.target in shape.modules for i in shape.imports)


def test_the_cycle_finder_sees_function_level_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "emostudio"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from emostudio import b\n"
    )
    (pkg / "b.py").write_text("def f():\n    from emostudio.a import x\n")
    (pkg / "c.py").write_text("import emostudio.a\n")
    shape = _shape().measure(pkg)
    assert shape.cycles() == [["emostudio.a", "emostudio.b"]]
    assert [(i.module, i.target) for i in shape.function_imports()] == [("emostudio.b", "emostudio.a")]


def test_modules_and_functions_stay_small():
    shape = _shape().measure()
    assert shape.large_modules() == []
    assert shape.long_functions() == []


def test_the_light_imports_stay_torch_free():
    code = (
        "import sys\n"
        "from emostudio.cli import build_parser\n"
        "build_parser()\n"
        "import emostudio.results, emostudio.options, emostudio.records, emostudio.runs\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('emostudio'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
