"""Run the whole system in the foreground: web server, Celery worker, Celery beat, the media
supervisor and the plate-read listener. One Ctrl+C stops them all; if one dies, the rest are stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from lprnvr.celery import QUEUES


def stack_commands(port: int, workers: int) -> dict[str, list[str]]:
    py = sys.executable
    manage = str(settings.BASE_DIR / "manage.py")
    commands = {
        "web": [
            # The config: timeout and an access log with tokens and credentials masked.
            py, "-m", "gunicorn", "--config", "python:lprnvr.gunicorn_conf", "lprnvr.wsgi:application",
            "--bind", f"0.0.0.0:{port}", "--workers", str(workers), "--threads", "8",
        ],
        "worker": [
            py, "-m", "celery", "-A", "lprnvr", "worker", "-Q", ",".join(QUEUES),
            "--loglevel", "INFO", "--concurrency", "4",
        ],
        "beat": [py, "-m", "celery", "-A", "lprnvr", "beat", "--loglevel", "INFO",
                 "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
    }  # fmt: skip
    # The media supervisor joins the stack once the recordings app provides it.
    from django.core.management import get_commands

    if "run_media" in get_commands():
        commands["media"] = [py, manage, "run_media"]
    if "run_events" in get_commands():  # the plate-read listener (plates/events/supervisor.py)
        commands["events"] = [py, manage, "run_events"]
    return commands


class Command(BaseCommand):
    help = "Run web, worker, beat, media and events together; Ctrl+C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))

    def handle(self, *args, port: int, web_workers: int, **options):
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, argv in stack_commands(port, web_workers).items():
            # Own process group each: the terminal's Ctrl+C reaches us, and we stop them in order.
            procs[name] = subprocess.Popen(argv, start_new_session=True)
            self.stdout.write(f"started {name} (pid {procs[name].pid})")
        self.stdout.write(f"lprnvr is up: http://127.0.0.1:{port}/admin/  (Ctrl+C stops everything)")
        exit_code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; stopping the others")
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        for proc in procs.values():
            if proc.poll() is None:
                # Only the main process: gunicorn and celery stop their own children gracefully.
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for proc in procs.values():
            try:  # nothing of the stack outlives it
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.stdout.write("all stopped")
        sys.exit(exit_code)
