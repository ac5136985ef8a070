"""The production recipe with gunicorn: the app factory under the uvicorn worker class, 2 workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def test_gunicorn_serves_the_app_factory_with_keys_and_shared_metrics(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    env = {**os.environ, "CICLO_DATABASE_URL": url, "CICLO_MIGRATE": "0", "CICLO_ENV": "production",
           "CICLO_AUTH": "on", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, check=True, timeout=120)
    key = subprocess.run([sys.executable, "-m", "api.cli", "keys", "create", "--role", "ADMIN", "--name", "ops"],
                         env=env, check=True, timeout=120, capture_output=True, text=True).stdout.strip()
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "api.app:create_app()", "--worker-class", "uvicorn.workers.UvicornWorker",
         "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        assert httpx.post(f"{base}/graphql", json={"query": "{ stages { stage } }"}, timeout=30).status_code == 401
        for _ in range(10):
            with httpx.Client(timeout=30) as client:
                ok = client.post(f"{base}/graphql", json={"query": "{ stages { stage } }"},
                                 headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200 and "errors" not in ok.json()
        metrics = httpx.get(f"{base}/metrics", timeout=30).text
        line = next(x for x in metrics.splitlines() if x.startswith('ciclo_request_seconds_count{operation="query:stages"}'))
        assert float(line.split()[-1]) == 10
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
