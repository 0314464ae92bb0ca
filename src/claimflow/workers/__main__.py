"""`python -m claimflow.workers`: run a worker configured from the environment (see README)."""

from __future__ import annotations

import asyncio
import contextlib

from claimflow.integrations.logs import configure_logging
from claimflow.integrations.settings import Settings
from claimflow.workers.worker import run


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_format)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
