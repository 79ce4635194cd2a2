"""Request latencies under gunicorn with several workers (runstack's command line): whichever worker
answers the scrape, the histogram counts every worker's requests (PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests
from django.conf import settings as django_settings
from prometheus_client.parser import text_string_to_metric_families

from lprnvr.management.commands.runstack import stack_commands
from tests.waiting import free_port

TOKEN = "multiproc-token-81"


def health_count(text: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "lprnvr_http_request_duration_seconds_count" and sample.labels["view"] == "health":
                total += sample.value
    return total


@pytest.mark.django_db(transaction=True)
def test_every_scrape_sums_all_workers(tmp_path):
    port = free_port()
    argv = stack_commands(port, 3)["web"]
    argv[argv.index(f"0.0.0.0:{port}")] = f"127.0.0.1:{port}"
    db = django_settings.DATABASES["default"]
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"left by an earlier run")  # emptied when gunicorn starts
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    log = tmp_path / "web.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
                time.sleep(0.2)
        # New connections each, until at least two workers have answered (the kernel spreads them).
        sent = 1
        while sent < 30 or len(list(folder.glob("histogram_*.db"))) < 2:
            assert sent < 500, "one worker answered everything"
            requests.get(f"{base}/health", timeout=10, headers={"Connection": "close"})
            sent += 1
        scrapes = [
            requests.get(
                f"{base}/metrics", timeout=10, headers={"Authorization": f"Bearer {TOKEN}", "Connection": "close"}
            )
            for _ in range(6)
        ]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert all(r.status_code == 200 for r in scrapes), [r.status_code for r in scrapes]
    assert [health_count(r.text) for r in scrapes] == [float(sent)] * 6
    assert not (folder / "counter_99999.db").exists()
