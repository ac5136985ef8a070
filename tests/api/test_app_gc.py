"""A serving process raises the collector's young-generation threshold once everything is loaded."""

from __future__ import annotations

import gc

from starlette.testclient import TestClient

from api.app import GC_YOUNG_THRESHOLD, create_app
from api.settings import Settings


def test_the_server_collects_young_objects_less_often(database_url: str) -> None:
    before = gc.get_threshold()
    try:
        app = create_app(Settings(database_url=database_url, auth=False, log_level="warning"))
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
