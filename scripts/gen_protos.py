"""Generate the Python code for protos/ into libs/runtime/src/ktrdr (the one place it lives).

Usage: ``python scripts/gen_protos.py`` writes it; ``--check`` fails (exit 1) when the
committed code differs from what the protos generate. Also writes the descriptor set the
Envoy gateway uses (``--descriptor-out``).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess  # nosec B404 # runs grpc_tools.protoc
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
THIRD_PARTY = ROOT / "third_party" / "googleapis"
OUT = ROOT / "libs" / "runtime" / "src" / "ktrdr"


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))


def protoc(args: list[str]) -> None:
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{THIRD_PARTY}",
        f"-I{include}",
        *args,
    ]
    subprocess.run(cmd, check=True)  # nosec B603 # our interpreter and protoc, no shell


def generate(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    protoc(
        [f"--python_out={dest}", f"--pyi_out={dest}", f"--grpc_python_out={dest}", *proto_files()]
    )
    pkg = dest / "ktrdr"
    for d in [pkg, *[p for p in pkg.rglob("*") if p.is_dir()]]:
        (d / "__init__.py").write_text("# Generated package: see scripts/gen_protos.py\n")


def descriptor_set(out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    protoc(
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *proto_files(),
        ]
    )


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated code is stale")
    parser.add_argument("--descriptor-out", type=Path, help="also write a descriptor set here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = Path(tmp) / "ktrdr"
        if args.check:
            if not OUT.exists() or not same_tree(fresh, OUT):
                sys.stderr.write(
                    "Generated code in libs/runtime/src/ktrdr is stale: run "
                    "`python scripts/gen_protos.py` and commit the result.\n"
                )
                return 1
        else:
            shutil.rmtree(OUT, ignore_errors=True)
            shutil.copytree(fresh, OUT)
    if args.descriptor_out:
        descriptor_set(args.descriptor_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
