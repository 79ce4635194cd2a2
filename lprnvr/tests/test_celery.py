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
