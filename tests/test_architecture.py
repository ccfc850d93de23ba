"""Layering rules that keep the engine reusable, and the rule that commands are never run."""

import builtins
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_engine_imports_without_textual_or_rich():
    code = textwrap.dedent("""
        import sys
        import inversion_tui.loop.engine, inversion_tui.hf.train, inversion_tui.hf.backend
        bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'})
        print(','.join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


# What the loop may not import, at module level or inside a function: the layers above it.
ABOVE_THE_LOOP = ("inversion_tui.eval_sets", "inversion_tui.hf.backend", "inversion_tui.hf.models",
                  "inversion_tui.hf.prefix_cache", "inversion_tui.tui", "inversion_tui.console",
                  "inversion_tui.run_record", "inversion_tui.score_report", "inversion_tui.marks", "cli",
                  "textual", "rich")


def imported_modules(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_loop_imports_nothing_above_it():
    for path in sorted((ROOT / "inversion_tui" / "loop").glob("*.py")):
        for module in imported_modules(path):
            assert not any(module == layer or module.startswith(layer + ".") for layer in ABOVE_THE_LOOP), (
                f"{path.relative_to(ROOT)} imports {module}")


def test_settings_and_the_registries_they_read_load_no_engine_part():
    """Settings read the scorer and objective registries for names and defaults; the scorers,
    the documentation index and the model libraries stay unloaded until a run uses them."""
    code = textwrap.dedent("""
        import sys
        import inversion_tui.settings
        print(','.join(sorted(m for m in sys.modules if m.startswith('inversion_tui') or m.split('.')[0] == 'torch')))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert set(out.stdout.strip().split(",")) == {
        "inversion_tui", "inversion_tui.errors", "inversion_tui.importing",
        "inversion_tui.loop", "inversion_tui.loop.backend",
        "inversion_tui.loop.components", "inversion_tui.loop.objectives", "inversion_tui.loop.select",
        "inversion_tui.settings"}


def product_modules() -> dict[str, Path]:
    """Every module of the product (inversion_tui, cli) by its dotted name."""
    modules = {}
    for package in ("inversion_tui", "cli"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_edges(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules `name` imports: every import statement, lazy ones inside functions
    too, relative ones resolved; those under `if TYPE_CHECKING:` aside (never run)."""
    import ast

    tree = ast.parse(path.read_text())
    typing_only = {id(sub) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) for sub in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
        else:
            continue
        for target in targets:
            while target and target not in modules:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
    return edges


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_among_the_product_modules():
    """Issue 33: settings -> backends -> hf/backend -> backends, and hf/models -> settings."""
    modules = product_modules()
    graph = {name: import_edges(name, path, modules) for name, path in modules.items()}
    assert import_cycles(graph) == []
    # The finder finds one where there is one (else this test could not fail).
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "inversion_tui.loop.backend" in graph["inversion_tui.settings"]  # lazy and relative imports read


def test_no_product_file_over_500_lines():
    """Issue 33: a module a reader can hold; the workbench app and the engine were 790 and 640
    before they were split into rooms (tui/worker, dispatch, heading, views; loop/heldout,
    batch_scoring, pass_stats)."""
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for package in ("inversion_tui", "cli") for path in (ROOT / package).rglob("*.py")}
    assert len(sizes) > 50 and "inversion_tui/tui/app.py" in sizes  # the walk found the product
    assert {path: lines for path, lines in sizes.items() if lines > 500} == {}


def test_every_registered_scorer_objective_and_engine_resolves():
    from inversion_tui.loop.backend import GENERATORS
    from inversion_tui.importing import resolve
    from inversion_tui.loop.components import REGISTRY
    from inversion_tui.loop.objectives import OBJECTIVES

    paths = [spec.scorer for spec in REGISTRY.values() if isinstance(spec.scorer, str)]
    paths += [path for spec in OBJECTIVES.values() for path in (spec.examples, spec.loss)]
    paths += list(GENERATORS.values())
    assert len(paths) == len(REGISTRY) + 2 * len(OBJECTIVES) + len(GENERATORS)
    assert all(callable(resolve(path)) for path in paths)


def test_metrics_need_only_the_standard_library():
    # and the shell parser's two small packages: never a model library
    stdlib = set(sys.stdlib_module_names) | {"tree_sitter", "tree_sitter_bash"}
    for module in imported_modules(ROOT / "inversion_tui" / "loop" / "metrics.py"):
        assert module.split(".")[0] in stdlib or module in ("inversion_tui.loop", "inversion_tui.shell"), module
    for module in imported_modules(ROOT / "inversion_tui" / "shell.py"):
        assert module.split(".")[0] in stdlib, module


def test_no_process_api_in_the_product():
    forbidden = ("subprocess", "os.system", "os.popen", "os.exec", "pty.spawn", "shell=True", "os.spawn")
    for path in list((ROOT / "inversion_tui").rglob("*.py")) + list((ROOT / "cli").rglob("*.py")):
        text = path.read_text()
        for word in forbidden:
            assert word not in text, f"{path.relative_to(ROOT)} mentions {word}"


def forbid_processes(monkeypatch):
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    for module, names in ((subprocess, ["Popen", "run", "call", "check_call", "check_output"]),
                          (os, ["system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execlp",
                                "spawnv", "spawnvp", "posix_spawn", "posix_spawnp"]),
                          (pty, ["spawn"])):
        for name in names:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)
    return started


def test_full_loop_with_process_apis_patched_to_raise(tmp_path, monkeypatch, fake_backend):
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs

    started = forbid_processes(monkeypatch)
    settings = build_settings(cycles=1, tasks=4, candidates=2, threshold=0.0, output=tmp_path / "run")
    engine = Engine(settings, fake_backend, load_packs("pentest"), RunLog.create(settings.output))
    assert engine.run() == "finished" and started == []


@pytest.mark.slow
def test_real_model_loop_with_process_apis_patched_to_raise(tmp_path, monkeypatch):
    """The real stack (transformers, peft, sentence-transformers) through a whole cycle, with
    every way to start a process refusing: generated commands are only ever text."""
    from inversion_tui.hf.backend import HFBackend
    from inversion_tui.loop.engine import Engine
    from inversion_tui.loop.runlog import RunLog, read_candidates
    from inversion_tui.settings import build_settings
    from inversion_tui.tasks import load_packs

    settings = build_settings(cycles=1, tasks=2, candidates=2, threshold=0.0, max_new_tokens=16,
                              output=tmp_path / "run", pack="pentest,shell")
    backend = HFBackend.load(settings)
    started = forbid_processes(monkeypatch)
    engine = Engine(settings, backend, load_packs(settings.pack), RunLog.create(settings.output))
    assert engine.run() == "finished" and started == []
    assert len(read_candidates(tmp_path / "run")) == 2 * 2 * 2
