"""`manage.py run_media`: the long-running media supervisor (see recordings/supervisor.py)."""

import faulthandler
import signal

from django.core.management.base import BaseCommand

from recordings.supervisor import Supervisor


class Command(BaseCommand):
    help = "Own every ffmpeg process: converge live viewers, recordings and continuous cameras to processes."

    def handle(self, *args, **options):
        # `kill -USR1 <pid>` dumps every thread's stack to stderr: how to see where a live supervisor is.
        faulthandler.register(signal.SIGUSR1)
        Supervisor().run()
