from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import factory
from django.conf import settings
from django.utils import timezone

from cameras.tests.factories import CameraFactory
from recordings import index, storage
from recordings.models import Recording, Segment


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    camera = factory.SubFactory(CameraFactory)
    camera_ip = factory.LazyAttribute(lambda o: o.camera.address)
    start_time = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    end_time = factory.LazyAttribute(lambda o: o.start_time + timedelta(seconds=60))
    anchored = True


def make_sample_mp4(path: Path, seconds: int = 4) -> Path:
    """A small real H.264 MP4, as a recording segment would be (made once, copied per test)."""
    subprocess.run(
        [settings.FFMPEG_BINARY, "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=160x120:rate=25", "-t", str(seconds), "-c:v", "libx264", "-g", "25",
         "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def make_segment(camera, start, seconds: int = 4, sample: Path | None = None, continuous: bool = False) -> Segment:
    """A segment row and its file, starting at `start`."""
    storage.prepare_root()  # the supervisor indexes only into a root it has checked (and marked)
    folder = storage.segment_dir(camera.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / index.segment_name(start, continuous=continuous)
    if sample is not None:
        shutil.copyfile(sample, path)
    else:
        path.write_bytes(b"\0" * 1000)
    return Segment.objects.create(
        camera=camera,
        start=start,
        end=start + timedelta(seconds=seconds),
        size=path.stat().st_size,
        path=str(path.relative_to(settings.RECORDINGS_DIR)),
        continuous=continuous,
    )
