"""The images: services/Dockerfile passes hadolint and builds what the deployment relies on.

No Docker engine runs here, so the recipe is checked as text (stages, base, user, what is
installed) and what it installs is checked through the packages' own metadata: the closure
of each service's distribution holds torch only for neural.
"""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ktrdr_runtime.services import NAMES, SERVICES

from .deploy_common import ROOT, tool

DOCKERFILE = ROOT / "services" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments): comment lines dropped, then continuation lines joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    out = []
    for line in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines():
        word, _, rest = line.strip().partition(" ")
        if word:
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage (what precedes the first FROM is stage -1's ARGs)."""
    result: list[list[tuple[str, str]]] = [[]]
    for item in instructions(DOCKERFILE.read_text()):
        if item[0] == "FROM":
            result.append([])
        result[-1].append(item)
    return result


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_dockerfile_passes_hadolint():
    done = hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_catches_what_the_dockerfile_avoids(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install torch\nUSER root\n")
    done = hadolint(bad)
    assert done.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3002"):  # latest, unpinned, cache, root
        assert rule in done.stdout


def test_every_stage_starts_from_an_exact_python_release():
    preamble, *built = stages()
    args = dict(a.split("=", 1) for word, a in preamble if word == "ARG")
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base
    assert len(built) >= 3  # build, install, run: nothing of the first two ships
    for stage in built:
        assert stage[0][1].split()[0] == "${PYTHON_IMAGE}", stage[0]


def test_the_image_runs_as_a_non_root_user_with_the_service_as_its_command():
    final = stages()[-1]
    assert len(final[0][1].split()) == 1  # the last stage is unnamed: the image
    users = [a for word, a in final if word == "USER"]
    assert users and all(u.split(":")[0].isdigit() and int(u.split(":")[0]) > 0 for u in users)
    assert [w for w, _ in final][-2:] == ["USER", "CMD"]
    assert [a for w, a in final if w == "COPY"] == ["--from=install /opt/ktrdr /opt/ktrdr"]
    (cmd,) = [a for w, a in final if w == "CMD"]
    assert cmd.startswith("[") and "exec python -m" in cmd and "ktrdr_${KTRDR_SERVICE}" in cmd


def test_the_image_installs_one_service_from_the_service_list_with_pinned_dependencies():
    wheels, install, _run = stages()[1:]
    text = " ".join(a for _, a in wheels)
    assert "ktrdr_runtime/services.py names" in text and "services.py paths" in text
    (pip,) = [a for w, a in install if w == "RUN" and "install" in a]
    assert "--constraint /tmp/constraints.txt" in pip and "--no-cache-dir" in pip
    installed = pip.split("--constraint /tmp/constraints.txt", 1)[1].split()
    assert installed == ['/wheels/ktrdr_"${SERVICE}"-*.whl']  # that wheel and its closure
    assert "torch" not in pip.replace("TORCH_INDEX", "")  # torch only as neural's dependency


def closure(distribution: str) -> set[str]:
    """Every distribution a service's install pulls in (markers for this platform)."""
    seen: set[str] = set()
    todo = [distribution]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


@pytest.mark.parametrize("service", NAMES)
def test_only_the_neural_image_carries_torch_and_only_indicators_ta_lib(service):
    (distribution,) = [s.distribution for s in SERVICES if s.name == service]
    installed = closure(distribution)
    assert distribution in installed and "ktrdr-runtime" in installed
    assert ("torch" in installed) == (service == "neural")
    assert ("ta-lib" in installed) == (service == "indicators")


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: ``**/`` any directories, ``*`` and ``?`` within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in patterns:
        regex = pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(c) for c in candidates):
            verdict = not pattern.startswith("!")
    return verdict


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_private():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    copied = [
        a.split()[0] for _, a in stages()[1] + stages()[2] if _ == "COPY" and "--from" not in a
    ]
    for source in copied:
        inside = [f for f in tracked if f == source or f.startswith(source + "/")]
        assert inside, source
        assert not [f for f in inside if ignored(f, patterns) and f != "services/Dockerfile"], (
            source
        )
    for private in (
        ".venv/bin/python",
        ".git/config",
        ".ktrdr/gateway/dev-admin.key",
        "tests/unit/deploy/test_images.py",
        "k8s/overlays/dev/kustomization.yaml",
        "services/data/src/ktrdr_data/__pycache__/app.cpython-311.pyc",
        "services/data/src/ktrdr_data.egg-info/PKG-INFO",
        "libs/runtime/.mypy_cache/x.json",
    ):
        assert ignored(private, patterns), private
