"""Every pydantic model the worker loads is complete once its module is imported.

A model whose annotation names a class defined later in its module (a forward reference) is left
incomplete by pydantic and rebuilt lazily, on first use, from `sys.modules[its module]`. Inside the
workflow sandbox `sys.modules` holds only what the workflow's own file imported, not every module
its pass-through imports pulled in, so that lazy rebuild fails there and the workflow task fails
with PydanticUserError: a claim that never settles (a CO-50 denial's AppealInput did this on a
real worker). Tests hid it whenever an earlier test had built the model outside the sandbox, so the
check runs in a fresh interpreter that imports what the real worker imports and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import importlib, json, pkgutil
    import claimflow.workers.worker  # what the real worker loads, before anything validates a model
    from pydantic import BaseModel

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    models = {
        f"{cls.__module__}.{cls.__qualname__}": cls.__pydantic_complete__
        for cls in subclasses(BaseModel)
        if cls.__module__.startswith("claimflow.") and not cls.__pydantic_generic_metadata__["origin"]
    }
    print(json.dumps(models))
    """
)


def test_every_model_the_worker_loads_is_complete_at_import() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    models: dict[str, bool] = json.loads(done.stdout.splitlines()[-1])
    assert "claimflow.claims.appeals.AppealInput" in models and len(models) > 50, sorted(models)
    incomplete = sorted(name for name, complete in models.items() if not complete)
    assert incomplete == [], (
        f"models left incomplete at import (call model_rebuild() after the class they name): {incomplete}"
    )
