"""The wheel built from pyproject holds every package, the task packs and the stylesheet, so a
non-editable `pip install .` opens the workbench."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_holds_every_package_the_packs_and_the_stylesheet(tmp_path):
    # From a clean copy: setuptools reuses a build/ folder, and an old one can hide what
    # pyproject leaves out.
    source = tmp_path / "source"
    anywhere = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis",
                                      ".pytest_cache", "output")
    top_only = {"experiments", "benchmarks", "tests", "docs"}  # not inversion_tui/docs, a package

    def ignore(folder, names):
        return set(anywhere(folder, names)) | (top_only & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, source, ignore=ignore)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = tmp_path.glob("inversion_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for top in ("inversion_tui", "cli", "sample_tasks")
                for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    assert "inversion_tui/manuals/debian_packages.txt" in names  # what the index is built from
    sources = {str(p.relative_to(ROOT)) for top in ("inversion_tui", "cli") for p in (ROOT / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert sources <= names, sorted(sources - names)
    assert "inversion_tui/tui/app.tcss" in names
    packs = {str(p.relative_to(ROOT)) for p in (ROOT / "sample_tasks").glob("*.yaml")}
    assert packs and packs <= names
