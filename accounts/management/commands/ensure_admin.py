"""Create the first administrator when there is none.

Credentials come from ADMIN_USERNAME / ADMIN_PASSWORD; without a password one is generated and
printed once (it is not stored anywhere in clear).
"""

import os
import secrets

from django.core.management.base import BaseCommand

from accounts.models import Role, User


class Command(BaseCommand):
    help = "Create the first admin from ADMIN_USERNAME/ADMIN_PASSWORD when no admin exists."

    def handle(self, *args, **options):
        if User.objects.filter(role=Role.ADMIN).exists():
            self.stdout.write("An administrator exists; nothing to do.")
            return
        username = os.environ.get("ADMIN_USERNAME") or "admin"
        password = os.environ.get("ADMIN_PASSWORD") or ""
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        User.objects.create_user(username=username, password=password, role=Role.ADMIN)
        if generated:
            banner = "=" * 60
            self.stdout.write(
                f"{banner}\nFirst administrator created.\n  username: {username}\n  password: {password}\n"
                f"This password is shown once; change it in the admin site.\n{banner}"
            )
        else:
            self.stdout.write(f"First administrator {username!r} created from ADMIN_USERNAME/ADMIN_PASSWORD.")
