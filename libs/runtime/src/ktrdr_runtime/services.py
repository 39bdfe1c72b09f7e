"""The KTRDR services: the one list, in port order (data listens on 50051, indicators on 50052...).

Everything that enumerates services derives from :data:`NAMES`: default ports
(``ktrdr_runtime.settings``), the mesh, the gateway's package map and OpenAPI tags, the image
build (``services/Dockerfile``) and the development install (``scripts/bootstrap``). A new
service adds its name here, its ``protos/ktrdr/<name>/v1/`` contract and its ``services/<name>/``
package; a unit test checks the three agree.

The module imports nothing but the standard library, so the Dockerfile and bootstrap run it as a
script before anything is installed::

    python libs/runtime/src/ktrdr_runtime/services.py paths       # services/data ...
    python libs/runtime/src/ktrdr_runtime/services.py packages    # ktrdr_data ...
"""

from __future__ import annotations

import dataclasses
import sys

NAMES: tuple[str, ...] = ("data", "indicators", "fuzzy", "neural", "backtest", "ib_gateway")


@dataclasses.dataclass(frozen=True, slots=True)
class Service:
    """One service and the names derived from it."""

    name: str

    @property
    def proto_package(self) -> str:
        """``ktrdr.<name>.v1``."""
        return f"ktrdr.{self.name}.v1"

    @property
    def python_package(self) -> str:
        """``ktrdr_<name>``."""
        return f"ktrdr_{self.name}"

    @property
    def distribution(self) -> str:
        """``ktrdr-<name>`` with dashes (``ktrdr-ib-gateway``)."""
        return "ktrdr-" + self.name.replace("_", "-")

    @property
    def path(self) -> str:
        """``services/<name>``, relative to the repository root."""
        return f"services/{self.name}"


SERVICES: tuple[Service, ...] = tuple(Service(n) for n in NAMES)


def by_proto_package() -> dict[str, str]:
    """gRPC package -> service name (``ktrdr.data.v1`` -> ``data``)."""
    return {s.proto_package: s.name for s in SERVICES}


_LISTS = {
    "names": lambda s: s.name,
    "paths": lambda s: s.path,
    "packages": lambda s: s.python_package,
    "distributions": lambda s: s.distribution,
}


def main(argv: list[str]) -> int:
    """Print one derived name per line: ``names``, ``paths``, ``packages`` or ``distributions``."""
    if len(argv) != 1 or argv[0] not in _LISTS:
        sys.stderr.write(f"usage: services.py {{{','.join(_LISTS)}}}\n")
        return 2
    sys.stdout.write("".join(f"{_LISTS[argv[0]](s)}\n" for s in SERVICES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
