"""Reads of the alerts app for pages (the dashboard's "Latest alerts")."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from lprnvr.visibility import is_admin

from . import messages
from .models import Event


def latest_alerts(user, *, limit: int = 10) -> list[dict]:
    """The newest events the user may see (their cameras' for users and viewers; every one, the
    system's too, for administrators), each as {"title", "at", "url", "kind"} in the page's language.
    The link is the event's page for administrators, the read's page or the camera's live view else."""
    events = Event.objects.visible_to(user).select_related("camera", "read").order_by("-occurred_at", "-id")[:limit]
    language = translation.get_language()
    admin = is_admin(user)
    rows = []
    for event in events:
        if admin:
            url = reverse("admin:alerts_event_change", args=[event.pk])
        elif event.read_id:
            url = reverse("admin:plates_reads") + f"?plate={event.read.number}"
        else:
            url = ""
        rows.append({"title": messages.title(event, language=language), "at": event.occurred_at, "url": url,
                     "kind": event.kind})  # fmt: skip
    return rows
