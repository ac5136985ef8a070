"""Where several workers' metrics meet: set up by `ciclo serve` before prometheus-client is imported.

prometheus-client picks its storage when it is imported, so this module must not import it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess(workers: int) -> None:
    """With several workers, point them at a fresh shared directory (unless one is configured)."""
    if workers < 2 or os.environ.get(MULTIPROC_ENV):
        return
    folder = Path(tempfile.gettempdir()) / f"ciclo-metrics-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
