"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from cameras.tests.factories import CameraFactory


def pytest_sessionstart(session):
    """Stop at once, naming the missing element or binary and its package, instead of letting the
    tests that need it time out one by one (tests/preflight.py)."""
    if os.environ.get("LPRNVR_SKIP_PREFLIGHT") == "1":
        return
    from tests import preflight

    found = preflight.problems()
    if found:
        pytest.exit(preflight.report(found), returncode=3)


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.RECORDINGS_DIR = tmp_path / "recordings"
    settings.HLS_OUTPUT_DIR = tmp_path / "hls"
    settings.BACKUPS_DIR = tmp_path / "backups"
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient(raise_request_exception=False)


@pytest.fixture
def make_user(db):
    def make(role: str = "user", **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", username="admin")


@pytest.fixture
def camera(db):
    return CameraFactory()


def client_for(user) -> APIClient:
    """An API client authenticated with a real JWT from the login endpoint's service."""
    from accounts.services import issue_tokens

    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['token']}")
    return client


@pytest.fixture
def as_user():
    return client_for


@pytest.fixture(scope="session")
def celery_worker_session(django_db_blocker):
    """A real Celery worker, in a thread of the test process, consuming our queues from the broker.

    Tests using it need `@pytest.mark.django_db(transaction=True)`: the worker's thread has its own
    database connection and must see committed rows.
    """
    from celery.contrib.testing.worker import start_worker

    from lprnvr.celery import QUEUES, app

    app.control.purge()
    with django_db_blocker.unblock():
        with start_worker(
            app, pool="threads", concurrency=4, queues=QUEUES, perform_ping_check=False, shutdown_timeout=30
        ) as worker:
            yield worker


@pytest.fixture
def celery_worker(celery_worker_session, transactional_db):
    return celery_worker_session
