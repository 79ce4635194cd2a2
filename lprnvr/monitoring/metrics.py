"""The Prometheus exposition behind `/metrics`: what the database says now, plus request latencies.

Every family but the latency histogram is read from the database at scrape time (one function per
family, see `families`), so any gunicorn worker answering a scrape gives the same figures: no
per-process counter that would go back and forth as scrapes land on one worker or another.

Adding a family (e.g. the alerts app's deliveries by status) is one function:

    from prometheus_client.core import GaugeMetricFamily
    from lprnvr.monitoring.metrics import family

    @family
    def deliveries():
        g = GaugeMetricFamily("lprnvr_alert_deliveries", "Deliveries by status.", labels=["status"])
        ...
        yield g

in a module the app imports from its AppConfig.ready(). A family that raises is left out of that
scrape (and logged); `lprnvr_metrics_family_up{family}` says which one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from .latency import REQUEST_DURATION

log = logging.getLogger("monitoring.metrics")

Family = Callable[[], Iterable[Metric]]
FAMILIES: dict[str, Family] = {}


def family(func: Family) -> Family:
    """Register a function yielding metric families, collected at every scrape (by its name)."""
    FAMILIES[func.__name__] = func
    return func


class DatabaseCollector:
    """Every registered family, read at scrape time."""

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "lprnvr_metrics_family_up",
            "1 when the family was collected in this scrape, 0 when it failed.",
            labels=["family"],
        )
        for name, func in FAMILIES.items():
            try:
                metrics = list(func())
            except Exception:  # one broken family must not take the others with it
                log.exception("metrics family %s failed", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


def multiprocess_dir() -> str:
    """Where gunicorn's workers keep their latency files ("" in a single process)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> bytes:
    """The text format of every family and of the request-latency histogram (all workers' together)."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_DURATION)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
