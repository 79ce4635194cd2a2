"""Re-encrypt every stored credential with the newest key of FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), run this
command, then drop the old keys.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from lprnvr.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            with transaction.atomic():
                for obj in model._default_manager.select_for_update().only("pk", *fields):
                    obj.save(update_fields=fields)  # decrypts with any key, encrypts with the first
                    total += 1
        self.stdout.write(f"Re-encrypted {total} rows.")
