import pytest

from lprnvr.celery import app, ping


@pytest.mark.celery
def test_round_trip_through_a_real_worker(celery_worker):
    assert app.conf.broker_url.startswith("redis://"), "the tests run the worker on Redis"
    result = ping.delay("hello")
    assert result.get(timeout=20) == "hello"


def test_routes_send_domains_to_their_queues():
    router = app.amqp.router
    assert router.route({}, "plates.push")["queue"].name == "plates"
    assert router.route({}, "cameras.discovery.scan")["queue"].name == "discovery"
    assert router.route({}, "lprnvr.ping")["queue"].name == "default"


@pytest.mark.celery
def test_round_trip_through_the_worker_command(tmp_path):
    """The worker exactly as `make run` and docker-compose start it, in its own process."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    queue = f"roundtrip-{os.getpid()}"  # its own queue: the in-process test worker must not answer
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lprnvr.settings"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "lprnvr", "worker", "-Q", queue, "--pool", "solo",
         "--hostname", f"roundtrip-{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        result = ping.apply_async(args=["through a subprocess"], queue=queue)
        assert result.get(timeout=60) == "through a subprocess"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
