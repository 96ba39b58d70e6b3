"""Several processes: a real redis-server on a loopback port, the external worker started as
its own process (`manage.py training_worker --once`) with the Redis channel layer, and this
process receiving the run's events through its own Redis layer instance. Skipped, with the
reason, where Debian's redis-server is not installed."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from retrieval.models import TrainingRun
from retrieval.training import services as training_services
from retrieval.training.events import run_group
from tests.web.conftest import QUICK, needs_dataset

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = [
    pytest.mark.skipif(not Path(REDIS).exists(), reason="redis-server is not installed (apt-get install redis-server)"),
    needs_dataset, pytest.mark.django_db(transaction=True),
]
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url():
    port = free_port()
    server = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:  # wait until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_external_worker_streams_progress_through_redis(redis_url, settings):
    from channels_redis.core import RedisChannelLayer

    settings.RETRIEVAL = {**settings.RETRIEVAL, "TRAINING_WORKER": "external"}
    run = training_services.training_run_start(family="descriptor", values=QUICK)  # only queued: no thread here
    layer = RedisChannelLayer(hosts=[redis_url])
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(run_group(run.pk), channel)
    connection.close()  # let the worker process have the SQLite file to itself while it writes
    env = {**os.environ, "REDIS_URL": redis_url, "PORTAL_TEST_DB": str(settings.DATABASES["default"]["NAME"]),
           "DJANGO_SETTINGS_MODULE": "portal.settings.test", "OMP_NUM_THREADS": "1"}
    worker = subprocess.run([sys.executable, "manage.py", "training_worker", "--once"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert "ran 1 job(s)" in worker.stdout

    async def received() -> list[dict]:
        import asyncio

        events = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=2)
            except TimeoutError:
                return events
            events.append(message["event"])

    events = async_to_sync(received)()
    async_to_sync(layer.flush)()
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "status" and events[0]["status"] == "running"
    assert events[-1]["kind"] == "status" and events[-1]["status"] == "finished"
    assert [p["step"] for e in events if e["kind"] == "step" for p in e["points"]] == [1, 2, 3, 4]
    assert "epoch" in kinds and all(e["run"] == run.pk for e in events)
    row = TrainingRun.objects.get(pk=run.pk)
    assert row.status == "finished" and row.history and row.curve
    assert row.worker.startswith(socket.gethostname() + ":") and row.worker != f"{socket.gethostname()}:{os.getpid()}"
