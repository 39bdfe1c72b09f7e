"""Strategy files of a directory, validated against an indicator catalogue.

The grammar (``ktrdr_core.strategy``) parses and checks a file; the indicators it names are then
checked by the :class:`~ktrdr_fuzzy.domain.sources.IndicatorCatalogue` (which may be a remote
service, hence async), and every reference to their outputs with
:func:`~ktrdr_core.strategy.document.check_indicators`. Errors are exactly those a synchronous
validator would give while parsing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from ktrdr_core.errors import NotFoundError, ValidationError
from ktrdr_core.offload import Offload
from ktrdr_core.strategy.document import (
    Strategy,
    check_indicators,
    find_strategy,
    list_strategies,
)
from ktrdr_fuzzy.domain.sources import IndicatorCatalogue

log = structlog.get_logger(__name__)


class StrategyLibrary:
    """The valid strategies of ``directory``.

    Parameters
    ----------
    directory
        Where the ``*.yaml`` strategy files are.
    catalogue
        Checks the indicators; ``None`` accepts any indicator (output names then unknown).
    offload
        Runs the file reading and parsing (default ``asyncio.to_thread``).
    """

    def __init__(
        self,
        directory: Path,
        catalogue: IndicatorCatalogue | None,
        *,
        offload: Offload = asyncio.to_thread,
    ) -> None:
        self.directory = directory
        self._catalogue = catalogue
        self._offload = offload

    async def get(self, name: str) -> Strategy:
        """The strategy called ``name`` (or whose file stem is ``name``), validated.

        Raises
        ------
        NotFoundError
            FUZZY-014 with close matches.
        ValidationError
            The file's error (FUZZY-0NN), FUZZY-012 for an indicator the catalogue refuses.
        """
        strategy = await self._offload(find_strategy, self.directory, name)
        return await self.validate(strategy)

    async def all(self) -> list[Strategy]:
        """Every valid strategy, by file name; invalid files are logged and skipped."""
        out = []
        for listing in await self._offload(list_strategies, self.directory):
            if listing.strategy is None:
                continue
            try:
                out.append(await self.validate(listing.strategy))
            except (ValidationError, NotFoundError) as exc:
                log.info("strategy_invalid", path=str(listing.path), code=exc.code, error=str(exc))
        return out

    async def validate(self, strategy: Strategy) -> Strategy:
        """``strategy`` with its indicators checked by the catalogue and their outputs filled.

        The catalogue's refusals (INVALID_ARGUMENT, NOT_FOUND) become the strategy's FUZZY-012,
        every one reported with the reference problems at once; its other errors (a catalogue
        service down: UNAVAILABLE) pass unchanged.
        """
        if self._catalogue is None:
            return strategy
        return await check_indicators(strategy, self._catalogue.outputs)
