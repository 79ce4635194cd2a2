"""Rows for the fuzzer to find (`manage.py shell < scripts/fuzz/seed.py`): small ids exist, so fuzzed
paths reach real objects, and the fuzz administrator's id is far from them (a fuzzed DELETE
/api/users/1 must not end the run's own account)."""

import os

from accounts.models import Role, User
from cameras.models import Brand, Camera
from plates.models import Plate

password = os.environ["FUZZ_PASSWORD"]
for number in (1, 2):
    User.objects.create_user(username=f"viewer{number}", password=password, role=Role.VIEWER)
User.objects.create_user(id=900_000_001, username=os.environ["FUZZ_ADMIN"], password=password, role=Role.ADMIN)
for number in (2, 3):
    # Loopback inside the fuzzer's network namespace: nothing listens there, nothing leaves it.
    Camera.objects.create(
        name=f"Gate {number}", ip=f"127.0.0.{number}", http_port=80, rtsp_port=554, brand=Brand.HIKVISION,
        channel=1, username="admin", password=password,
    )  # fmt: skip
for number in ("ABC123", "XYZ789"):
    Plate.objects.create(number=number)
