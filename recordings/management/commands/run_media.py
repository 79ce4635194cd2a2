"""`manage.py run_media`: the long-running media supervisor (see recordings/supervisor.py)."""

from django.core.management.base import BaseCommand

from recordings.supervisor import Supervisor


class Command(BaseCommand):
    help = "Own every ffmpeg process: converge live viewers, recordings and continuous cameras to processes."

    def handle(self, *args, **options):
        Supervisor().run()
