"""`manage.py reconcile_recordings`: match the index to the disk by hand (the supervisor does it at start)."""

from django.core.management.base import BaseCommand, CommandError

from recordings import index, storage
from recordings.models import Segment


class Command(BaseCommand):
    help = (
        "Drop index rows of segment files that are missing and index complete unlisted files. Refuses while "
        "the recordings root is faulty, and when most indexed files are missing unless --accept-missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accept-missing",
            action="store_true",
            help="The missing files were deleted on purpose: drop their rows even if that is most of the index.",
        )

    def handle(self, *args, accept_missing: bool = False, **options):
        fault = storage.root_fault(indexed=Segment.objects.exists())
        if fault is not None and not (accept_missing and fault.id == storage.FILES_MISSING):
            raise CommandError(str(fault))
        try:
            stats = index.reconcile(accept_missing=accept_missing)
        except index.TooManyMissing as exc:
            raise CommandError(f"{exc}: nothing dropped (--accept-missing if they were deleted on purpose)") from exc
        storage.prepare_root()
        storage.report_fault(None)
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in stats.items()))
