"""Report fixtures: the hand-built decision log of tests/reports/hand_log.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.container import Services
from tests.reports.hand_log import HandLog, build_hand_log


@pytest.fixture
def hand_log(services: Services) -> Callable[[], Awaitable[HandLog]]:
    return lambda: build_hand_log(services)
