"""The seed's LPR server command line, kept working:

    python manage.py lpr_server -u USER -c PASSWORD [-p PORT]
    python manage.py lpr_server --usuario USER --contraseña PASSWORD --puerto PORT

Serves the whole application (web with /AddPlate, /DeletePlate, /UpdatePlate and the API, the
Celery worker and beat) on PORT (default 8080), with USER/PASSWORD as the credentials for cameras
registered without their own. The credentials are stored encrypted, never passed on a command line.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from plates import services


class Command(BaseCommand):
    help = "Serve lprnvr on a port with default camera credentials (the original LPR server's command line)."

    def add_arguments(self, parser):
        parser.add_argument("-u", "--usuario", "--user", dest="user", required=True, help="Camera user (HTTP Digest)")
        parser.add_argument(
            "-c", "--contraseña", "--contrasena", "--password", dest="password", required=True, help="Camera password"
        )
        parser.add_argument("-p", "--puerto", "--port", dest="port", type=int, default=8080, help="Port (default 8080)")

    def handle(self, *args, user: str, password: str, port: int, **options):
        services.set_default_credentials(username=user, password=password)
        self.stdout.write(f"Default camera credentials set for user {user!r}; serving on port {port}.")
        call_command("runstack", port=port)
