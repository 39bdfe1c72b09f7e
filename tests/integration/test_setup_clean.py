"""Setting up never dirties the work tree: a complete npm lock, `npm ci`, no stray files."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "tools" / "package-lock.json"


def _tree_state() -> dict[str, str]:
    """``git status --porcelain`` entries with a digest of each dirty file's content."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    state = {}
    for line in out.splitlines():
        path = REPO / line[3:].split(" -> ")[-1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"
        state[line] = digest
    return state


def test_the_npm_lock_lists_every_optional_platform_package():
    packages = json.loads(LOCK.read_text())["packages"]
    wanted = {
        f"node_modules/{dep}"
        for entry in packages.values()
        for dep in entry.get("optionalDependencies", {})
    }
    assert wanted, "buf names its platform packages as optional dependencies"
    assert wanted <= set(packages), f"missing from the lock: {sorted(wanted - set(packages))}"


def test_npm_ci_installs_buf_from_the_lock_without_rewriting_it(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm is installed by scripts/bootstrap; not on PATH here")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO / "tools" / name, tmp_path / name)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "package-lock.json").read_bytes() == LOCK.read_bytes()
    version = subprocess.run(
        [str(tmp_path / "node_modules" / ".bin" / "buf"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        version.stdout.strip()
        == json.loads((REPO / "tools" / "package.json").read_text())["devDependencies"][
            "@bufbuild/buf"
        ]
    )


def test_bootstrap_and_a_test_run_leave_the_work_tree_as_they_found_it():
    before = _tree_state()
    subprocess.run([str(REPO / "scripts" / "bootstrap")], cwd=REPO, check=True, timeout=600)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "tests/unit/gateway/test_keys.py",
            "tests/unit/client",
            "tests/unit/cli",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert _tree_state() == before
