"""Python's cyclic collector held off while a request builds a large result.

A ``decideBatch`` of 10,000 keeps a few hundred thousand objects alive until its response is
encoded (log rows, decisions, their GraphQL values, the result tree). None of them is in a
reference cycle (tests/api/test_app_gc.py), so the collector has nothing to find among them, yet
allocating them ran about eleven young collections and one older one per call, 9% of the call
(48 ms of a 535 ms call, measured with gc.callbacks in a server). A resolver that is about to build
such a result asks for a pause (``Context.pause_collector``), and so does the GraphQL view for any
request body of 64 KiB or more; the view ends the request's pause once the response is encoded,
when reference counting has already freed those objects, so the collector resumes with a small
young generation.

The pause is process-wide: requests that overlap with it run without the collector too, which is
harmless for the same reason. It never lasts unbounded: once a pause is ``max_seconds`` old, new
requests stop joining it, and it ends when the requests holding it are answered.
"""

from __future__ import annotations

import gc
import time


class CollectorPause:
    def __init__(self, max_seconds: float = 5.0) -> None:
        self.max_seconds = max_seconds
        self._holders = 0
        self._since = 0.0
        self.pauses = 0  # pauses started so far

    @property
    def active(self) -> bool:
        return self._holders > 0

    def hold(self) -> bool:
        """Start or join the pause. False, holding nothing, when the collector was already off for
        another reason (someone else's ``gc.disable``) or the running pause is too old to join."""
        if self._holders == 0:
            if not gc.isenabled():
                return False
            gc.disable()
            self._since = time.monotonic()
            self.pauses += 1
        elif time.monotonic() - self._since > self.max_seconds:
            return False
        self._holders += 1
        return True

    def release(self) -> None:
        """Leave the pause; the last holder turns the collector back on."""
        if self._holders <= 0:
            raise RuntimeError("release() without a matching hold()")
        self._holders -= 1
        if self._holders == 0:
            gc.enable()
