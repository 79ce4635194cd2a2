"""`manage.py run_events`: the long-running plate-read listener (see plates/events/supervisor.py)."""

import faulthandler
import signal

from django.core.management.base import BaseCommand

from plates.events.supervisor import Supervisor


class Command(BaseCommand):
    help = "Hold every armed camera's alertStream open and store the plate reads it carries."

    def handle(self, *args, **options):
        # `kill -USR1 <pid>` dumps every thread's stack to stderr: how to see where a live listener is.
        faulthandler.register(signal.SIGUSR1)
        Supervisor().run()
