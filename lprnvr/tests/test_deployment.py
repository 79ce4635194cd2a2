"""Deployment settings (issue 10): public base URL, Host header, TLS switches, secret files, the
credential fingerprint, the same 404 for an unknown and a forbidden camera."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from lprnvr.api import absolute_url
from lprnvr.secret_files import persistent_secret

BASE_DIR = Path(django_settings.BASE_DIR)


def test_absolute_urls_never_come_from_an_arbitrary_host_header(settings):
    request = RequestFactory().get("/", HTTP_HOST="evil.example")
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = ""
    assert absolute_url(request, "/api/x") == "/api/x"
    settings.PUBLIC_BASE_URL = "https://nvr.example.com"
    assert absolute_url(request, "/api/x") == "https://nvr.example.com/api/x"
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["nvr.lan"]
    good = RequestFactory().get("/", HTTP_HOST="nvr.lan")
    assert absolute_url(good, "/api/x") == "http://nvr.lan/api/x"


def test_a_forged_host_is_refused_when_allowed_hosts_are_named(api_client, settings):
    settings.ALLOWED_HOSTS = ["nvr.lan"]
    assert api_client.get("/health", HTTP_HOST="evil.example").status_code == 400
    assert api_client.get("/health", HTTP_HOST="nvr.lan").status_code in (200, 503)


def _settings_in_subprocess(env: dict, expression: str) -> str:
    code = f"import django, os; django.setup(); from django.conf import settings; print(repr(({expression})))"
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "lprnvr.settings", **env}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=full, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def test_tls_switches_come_from_the_environment(tmp_path):
    expression = (
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS, "
        "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), settings.ALLOWED_HOSTS, settings.PUBLIC_BASE_URL"
    )
    env = {"VAR_DIR": str(tmp_path), "HTTPS_ONLY": "true", "TRUST_X_FORWARDED_PROTO": "true"}
    env |= {"ALLOWED_HOSTS": "nvr.example.com,10.0.0.2", "PUBLIC_BASE_URL": "https://nvr.example.com/"}
    assert _settings_in_subprocess(env, expression) == (
        "(True, True, 31536000, ('HTTP_X_FORWARDED_PROTO', 'https'), ['nvr.example.com', '10.0.0.2', 'localhost', '127.0.0.1', '[::1]'], "
        "'https://nvr.example.com')"
    )
    plain = _settings_in_subprocess({"VAR_DIR": str(tmp_path / "plain")}, expression)
    assert plain == "(False, False, 0, None, ['*'], '')"


def test_hsts_and_secure_cookies_behind_a_tls_proxy(api_client, admin_user, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SESSION_COOKIE_SECURE = True
    admin_user.set_password("pw-Secret-1")
    admin_user.save()
    response = api_client.post(
        "/admin/login/",
        {"username": "admin", "password": "pw-Secret-1", "next": "/admin/"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response["Strict-Transport-Security"] == "max-age=3600"
    assert response.cookies["sessionid"]["secure"] is True
    assert "Strict-Transport-Security" not in api_client.get("/health")  # plain HTTP: no HSTS


def _race(path: str, start, out) -> None:
    start.wait()
    out.put(persistent_secret(Path(path)))


def test_secret_files_are_created_once_even_when_processes_race(tmp_path):
    path = tmp_path / "secret_key"
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    workers = [context.Process(target=_race, args=(str(path), start, out)) for _ in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    keys = {out.get(timeout=30) for _ in workers}
    for worker in workers:
        worker.join(10)
    assert len(keys) == 1 and keys == {path.read_text()}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_an_empty_secret_file_is_never_taken_as_the_key(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    path = tmp_path / "field_encryption_key"
    path.write_text("")
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        persistent_secret(path, wait=0.2)
    assert path.read_text() == ""  # left for a person to look at, never overwritten


def test_credential_fingerprint_is_keyed_with_the_secret_key(settings):
    import hashlib

    from plates.clients.isapi import credentials_fingerprint

    first = credentials_fingerprint("admin", "Cam-pass:1")
    assert first != hashlib.sha256(b"admin\0Cam-pass:1").hexdigest()[:32]
    assert first == credentials_fingerprint("admin", "Cam-pass:1") and len(first) == 32
    settings.SECRET_KEY = "another-site-" + "x" * 40
    assert credentials_fingerprint("admin", "Cam-pass:1") != first


def test_hls_files_answer_alike_for_an_unknown_and_an_existing_camera(api_client, camera, as_user, make_user):
    """Anonymous: the same answer whether the camera exists; signed in without access: 404 for both."""
    existing, unknown = camera.address, "10.254.254.254:80"
    assert api_client.get(f"/api/cameras/streams/{existing}/index.m3u8").status_code == 401
    assert api_client.get(f"/api/cameras/streams/{unknown}/index.m3u8").status_code == 401
    stranger = as_user(make_user("user"))
    for ref in (existing, unknown):
        assert stranger.get(f"/api/cameras/streams/{ref}/index.m3u8").status_code == 404
        assert stranger.get(f"/api/cameras/stream/{ref}").status_code == 404
        assert stranger.post(f"/api/nvr/record/{ref}", {}, format="json").status_code == 404
        assert stranger.get(f"/api/nvr/status/{ref}").status_code == 404
        assert stranger.get(f"/api/nvr/continuous/{ref}").status_code == 404


def test_camera_addressed_endpoints_answer_404_alike_for_unknown_and_forbidden(camera, as_user, make_user):
    from plates.models import AnprCamera

    AnprCamera.objects.get_or_create(camera=camera)
    missing = camera.pk + 1000
    for role in ("user", "viewer"):
        stranger = as_user(make_user(role))
        for method, template in (
            ("get", "/api/cameras/{}/"),
            ("patch", "/api/cameras/{}/"),
            ("delete", "/api/cameras/{}/"),
            ("get", "/api/plates/cameras/{}/"),
            ("get", "/api/plates/cameras/{}/drift/"),
            ("post", "/api/plates/cameras/{}/backup/"),
            ("post", "/api/plates/cameras/{}/sync/"),
        ):
            answers = {getattr(stranger, method)(template.format(pk), {}, format="json").status_code
                       for pk in (camera.pk, missing)}  # fmt: skip
            assert len(answers) == 1, (role, method, template, answers)
            assert answers <= {404, 403}, (role, method, template, answers)
