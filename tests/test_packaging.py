"""The wheel installs one top-level name, ``dataseal``, and nothing that could collide with a user's
own ``chain``, ``registry``, ``api`` or ``cli``.

The wheel is built in a temporary folder from the files git knows (tracked, or new and not ignored:
what a fresh clone has once they are committed), and installed into a fresh virtualenv; the
project's dependencies come from this test run's own environment on ``PYTHONPATH`` (a folder on
``PYTHONPATH`` does not run ``.pth`` files, so the editable install of the checkout stays out of sight).
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "dataseal", "pyproject.toml",
               "README.md"]
    tracked = subprocess.run(listing, cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    (built,) = out.glob("dataseal-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel installed; its python."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    return python


def _run(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}  # the dependencies, not the checkout
    return subprocess.run([str(python), "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_wheel_holds_only_the_dataseal_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        names = archive.namelist()
    assert tops == {"dataseal", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "dataseal/__init__.py" in names  # a regular package, not a namespace one
    assert "dataseal/chain/contracts/artifacts/AssetRegistry.json" in names  # package data ships
    assert "dataseal/registry/schemas/manifest.schema.json" in names
    # The registry database's migrations: Alembic reads them as files at run time.
    migrations = ROOT / "dataseal" / "registry" / "db" / "migrations"
    revisions = [path for path in (migrations / "versions").glob("*.py") if path.name != "__init__.py"]
    assert revisions
    for path in [migrations / "env.py", migrations / "script.py.mako", *revisions]:
        assert path.relative_to(ROOT).as_posix() in names, path.name
    assert not any(name.startswith("dataseal/tests") or "/tests/" in name for name in names)


def test_import_dataseal_chain_works_and_bare_names_do_not(installed: Path, tmp_path: Path) -> None:
    ok = _run(installed, "import dataseal.chain, dataseal.registry, dataseal.cli.main; print('ok')", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "ok"
    for bare in ("chain", "registry", "api", "cli"):
        refused = _run(installed, f"import {bare}", tmp_path)
        assert refused.returncode != 0 and f"No module named '{bare}'" in refused.stderr, bare


def test_the_wheel_migrates_a_database_with_its_own_migrations(installed: Path, tmp_path: Path) -> None:
    code = ("from dataseal.registry.db import Database; from dataseal.registry.db.migrations import MIGRATIONS_DIR; "
            f"db = Database.open('sqlite:///{tmp_path / 'registry.sqlite'}'); "
            "print(db.get_schema_revision(), MIGRATIONS_DIR)")
    result = _run(installed, code, tmp_path)
    assert result.returncode == 0, result.stderr
    revision, folder = result.stdout.split()
    assert revision and folder.startswith(str(installed.parent.parent))  # the wheel's migrations, no alembic.ini


def test_the_console_script_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    script = installed.parent / "dataseal"
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    result = subprocess.run([str(script), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Register data assets on an EVM chain" in result.stdout
    where = _run(installed, "import dataseal; print(dataseal.__file__)", tmp_path)
    assert str(installed.parent.parent) in where.stdout  # the wheel's copy, not the checkout's
