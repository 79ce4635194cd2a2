"""Alerts: events the other apps report, rules that match them, and deliveries to webhooks, MQTT and email.

`services.emit(kind=..., camera=..., read=..., detail=...)` records what happened (it never raises);
the `notify` Celery queue evaluates the rules and delivers, so a slow receiver never holds up the
part that knew. See docs/alerts.md.
"""
