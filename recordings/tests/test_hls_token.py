"""The live HLS token: short-lived, ended with the user's other tokens, and never in a log line
(gunicorn's access log as runstack starts it, Django's request log)."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from cameras.tests.factories import CameraFactory
from conftest import client_for
from lprnvr.management.commands.runstack import stack_commands
from recordings import services, storage
from tests.waiting import free_port


def serve_playlist(camera) -> None:
    folder = storage.hls_dir(camera.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.m3u8").write_text("#EXTM3U\n#EXTINF:1.0,\ns1.m4s\n")
    (folder / "s1.m4s").write_bytes(b"\0" * 10)


def token_of(url: str) -> str:
    return url.split("/")[-2]


@pytest.fixture
def watched(make_user):
    viewer = make_user("viewer", username="watcher")
    camera = CameraFactory(ip="127.0.0.73")
    viewer.cameras.add(camera)
    serve_playlist(camera)
    return viewer, camera


def test_the_token_lives_media_url_ttl(settings, watched):
    viewer, camera = watched
    settings.MEDIA_URL_TTL = 600
    assert django_settings.MEDIA_URL_TTL == 600
    url = services.hls_url(camera=camera, user=viewer)
    assert client_for(None).get(url).status_code == 200
    settings.MEDIA_URL_TTL = 0
    time.sleep(1.1)
    assert client_for(None).get(url).status_code in (401, 403)


def test_the_stream_answer_says_when_to_renew(settings, watched, monkeypatch):
    viewer, camera = watched
    monkeypatch.setattr(services, "request_live", lambda **kw: None)
    monkeypatch.setattr(services, "wait_until_playable", lambda ids, timeout=None: set(ids))
    body = client_for(viewer).get(f"/api/cameras/stream/{camera.address}").json()
    assert body["expires_in"] == settings.MEDIA_URL_TTL == 600  # the default: 10 minutes
    assert body["hls_url"].endswith("/index.m3u8")


def test_a_logout_everywhere_or_password_change_ends_the_stream_link(watched):
    from django.core.cache import cache

    viewer, camera = watched
    url = services.hls_url(camera=camera, user=viewer)
    assert client_for(None).get(url).status_code == 200
    viewer.end_sessions()
    cache.clear()
    assert client_for(None).get(url).status_code == 403
    url = services.hls_url(camera=camera, user=viewer)
    assert client_for(None).get(url).status_code == 200
    viewer.set_password("another-pass-42")
    viewer.save()
    cache.clear()
    assert client_for(None).get(url).status_code == 403


def test_django_request_log_masks_the_token(watched):
    viewer, camera = watched
    token = token_of(services.hls_url(camera=camera, user=viewer))
    handler = next(
        h for h in logging.getLogger().handlers if any(type(f).__name__ == "RedactCredentialsFilter" for f in h.filters)
    )
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        logging.getLogger("django.request").warning("Forbidden: %s", f"/api/cameras/streams/{token}/s1.m4s")
    finally:
        handler.setStream(old)
    line = stream.getvalue()
    assert "Forbidden: /api/cameras/streams/***/s1.m4s" in line and token not in line


@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_log_has_the_path_without_the_token(watched, tmp_path):
    """gunicorn started with runstack's own command line; a player fetches the playlist and a segment."""
    viewer, camera = watched
    url = services.hls_url(camera=camera, user=viewer)
    token = token_of(url)
    port = free_port()
    argv = stack_commands(port, 1)["web"]
    argv[argv.index(f"0.0.0.0:{port}")] = f"127.0.0.1:{port}"
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "HLS_OUTPUT_DIR": str(django_settings.HLS_OUTPUT_DIR),
        "SECRET_KEY": django_settings.SECRET_KEY,
    }
    log = tmp_path / "web.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.2)
        assert requests.get(base + url, timeout=10).status_code == 200
        assert requests.get(f"{base}/api/cameras/streams/{token}/s1.m4s", timeout=10).status_code == 200
        other = CameraFactory(ip="127.0.0.74")  # a camera the viewer may not see: 403, logged by Django too
        forbidden = services.signed_token(camera_id=other.id, user_id=viewer.id, generation=viewer.token_generation)
        assert requests.get(f"{base}/api/cameras/streams/{forbidden}/index.m3u8", timeout=10).status_code == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    text = Path(log).read_text()
    assert '"GET /api/cameras/streams/***/index.m3u8 HTTP/1.1" 200' in text, text
    assert '"GET /api/cameras/streams/***/s1.m4s HTTP/1.1" 200' in text, text
    assert "Forbidden: /api/cameras/streams/***/index.m3u8" in text, text
    assert token not in text and forbidden not in text
