"""The Celery application.

Jobs are short and idempotent; the rows they work on live in the database, so a lost message only
delays work. Each domain gets its own queue so a long discovery scan never holds up plate pushes:
run more workers with `-Q plates` or `-Q discovery` on other hosts to scale one of them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lprnvr.settings")

app = Celery("lprnvr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = "default"
app.conf.task_routes = {
    "plates.*": {"queue": "plates"},
    "cameras.discovery.*": {"queue": "discovery"},
    "recordings.*": {"queue": "default"},
    # Alerts: a slow receiver (a webhook answering in 2 s, a broker down) never holds up other work.
    "alerts.*": {"queue": "notify"},
}
#: Every queue a worker started by `make run` consumes.
QUEUES = ("default", "plates", "discovery", "notify")
app.autodiscover_tasks()


@app.task(name="lprnvr.ping")
def ping(value: str = "pong") -> str:
    """A round trip through the broker, used by /health's deep check and by the tests."""
    return value
