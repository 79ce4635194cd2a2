"""The alerts' /metrics families (lprnvr.monitoring.metrics): deliveries by status and target, events
by kind."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from lprnvr.monitoring.metrics import family

from .models import Delivery, DeliveryStatus, Event, EventKind


@family
def alerts():
    deliveries = GaugeMetricFamily(
        "lprnvr_alert_deliveries", "Alert deliveries kept, by status and target.", labels=["status", "target"]
    )
    counts = {
        (row["status"], row["target__name"] or ""): row["n"]
        for row in Delivery.objects.order_by().values("status", "target__name").annotate(n=Count("id"))
    }
    targets = sorted({target for _status, target in counts}) or [""]
    for target in targets:
        for status in DeliveryStatus.values:
            deliveries.add_metric([status, target], counts.get((status, target), 0))
    events = GaugeMetricFamily("lprnvr_alert_events", "Alert events kept, by kind.", labels=["kind"])
    by_kind = dict(Event.objects.order_by().values_list("kind").annotate(n=Count("id")))
    for kind in EventKind.values:
        events.add_metric([kind], by_kind.get(kind, 0))
    yield deliveries
    yield events
