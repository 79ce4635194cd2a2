"""What /health and /stats need to know about the Celery broker."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .celery import QUEUES, app


def check_broker(timeout: float = 2.0) -> None:
    """Raise if the broker cannot be reached within `timeout` seconds."""
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        if conn.transport_cls == "filesystem" or settings.CELERY_BROKER_URL.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            if not folder.is_dir():
                raise OSError(f"broker folder {folder} is missing")


def queued_messages() -> int:
    """Messages waiting in the broker across our queues (0 if it cannot be read)."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            return sum(client.llen(q) for q in QUEUES)
        if url.startswith("filesystem://"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            return sum(1 for _ in folder.glob("*.msg"))
    except Exception:
        return 0
    return 0
