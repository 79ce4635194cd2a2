"""The foundation's doors (accounts, cameras, discovery, health, schema, the admin site's own pages
and the accounts/cameras model pages) x anonymous/viewer/user/admin, with the expected status.

The README's permission matrix is the human version of this table; `lprnvr.tests.matrix` runs it.
"""

import pytest

from cameras.models import DiscoveredDevice, DiscoveredStream, DiscoveryJob
from cameras.tests.factories import CameraFactory
from lprnvr.tests import matrix
from lprnvr.tests.matrix import LOGIN, model_admin


@pytest.fixture
def world(make_user):
    assigned = CameraFactory(ip="127.0.0.61")
    unassigned = CameraFactory(ip="127.0.0.62")
    users = {role: make_user(role, username=f"m-{role}") for role in ("viewer", "user", "admin")}
    for role in ("viewer", "user"):
        users[role].cameras.add(assigned)
    other = make_user("viewer", username="m-other")
    other.cameras.add(assigned)
    job = DiscoveryJob.objects.create(network_range="127.0.0.0/30")
    device = DiscoveredDevice.objects.create(ip="127.0.0.63")
    stream = DiscoveredStream.objects.create(device=device, channel=1)
    names = {
        "other": other.id,
        "assigned": assigned.id,
        "unassigned": unassigned.id,
        "discovery_job": job.id,
        "device": device.id,
        "stream": stream.id,
    }
    return {"users": users, "names": names}


# (method, path template, body, expected for anonymous, viewer, user, admin)
MATRIX = [
    ("get", "/api/users", None, (401, 403, 403, 200)),
    ("get", "/api/users/{other}", None, (401, 403, 403, 200)),
    ("put", "/api/users/{other}", {"role": "user"}, (401, 403, 403, 200)),
    ("delete", "/api/users/{other}", None, (401, 403, 403, 200)),
    ("post", "/api/users/{other}/cameras", {"camera_ips": ["127.0.0.62"]}, (401, 403, 403, 200)),
    ("delete", "/api/users/{other}/cameras/127.0.0.61", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/list", None, (401, 200, 200, 200)),
    ("get", "/api/cameras/", None, (401, 200, 200, 200)),
    ("post", "/api/cameras/", {"name": "n", "ip": "127.0.0.63", "brand": "generic"}, (401, 403, 403, 201)),
    ("get", "/api/cameras/{assigned}/", None, (401, 200, 200, 200)),
    ("get", "/api/cameras/{unassigned}/", None, (401, 404, 404, 200)),
    ("patch", "/api/cameras/{assigned}/", {"name": "renamed"}, (401, 403, 403, 200)),
    ("delete", "/api/cameras/{assigned}/", None, (401, 403, 403, 204)),
    ("get", "/api/cameras/discover", None, (401, 403, 403, 400)),  # the range is required
    ("post", "/api/cameras/discover", {"network_range": ""}, (401, 403, 403, 400)),
    ("get", "/api/cameras/discovery/jobs", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/jobs/{discovery_job}", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/devices", None, (401, 403, 403, 200)),
    ("get", "/api/cameras/discovery/devices/{device}", None, (401, 403, 403, 200)),
    ("post", "/api/cameras/discovery/adopt", {}, (401, 403, 403, 400)),
    ("post", "/api/auth/login", {"username": "m-admin", "password": "wrong"}, (401, 401, 401, 401)),
    ("post", "/api/auth/refresh", {"refresh": "not-a-token"}, (401, 401, 401, 401)),
    ("post", "/api/auth/logout", None, (401, 200, 200, 200)),
    ("post", "/api/auth/register", {"username": "newbie", "password": "s3cret-pass-x"}, (401, 403, 403, 201)),
    ("get", "/health", None, (200, 200, 200, 200)),
    ("get", "/stats", None, (401, 200, 200, 200)),
    # Prometheus' door: a bearer token or an allowed address (none set here), never a user's role.
    ("get", "/metrics", None, (403, 403, 403, 403)),
    ("get", "/api/schema/", None, (200, 200, 200, 200)),
    ("get", "/api/docs/", None, (200, 200, 200, 200)),
    ("post", "/i18n/setlang/", {"language": "es"}, (302, 302, 302, 302)),
    # The admin site's own pages: every role signs in (for the Live view and Player) ...
    ("get", "/admin/", None, (LOGIN, 200, 200, 200)),  # the dashboard, each role's own cameras
    ("get", "/admin/dashboard/panel/", None, (LOGIN, 200, 200, 200)),  # its refresh
    ("get", "/admin/login/", None, (200, LOGIN, LOGIN, LOGIN)),
    ("post", "/admin/logout/", {}, (LOGIN, 200, 200, 200)),
    ("get", "/admin/password_change/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/password_change/done/", None, (LOGIN, 200, 200, 200)),
    ("get", "/admin/jsi18n/", None, (LOGIN, 200, 200, 200)),
    # ... but sees no app and no model, and no row through the autocomplete or "view on site".
    (
        "get",
        "/admin/autocomplete/?app_label=accounts&model_name=user&field_name=cameras",
        None,
        (LOGIN, 403, 403, 200),
    ),
    ("get", "/admin/r/1/1/", None, (LOGIN, 404, 404, 404)),
    ("get", "/admin/cameras/", None, (LOGIN, 404, 404, 200)),
    ("get", "/admin/no-such-page/", None, (LOGIN, 404, 404, 404)),
    *model_admin("accounts/user", "other"),
    ("get", "/admin/accounts/user/{other}/password/", None, (LOGIN, 403, 403, 200)),
    *model_admin("cameras/camera", "assigned"),
    # The camera asked now (127.0.0.61 refuses both protocols: the page says so, as a 502 page).
    ("get", "/admin/cameras/camera/{assigned}/snapshot/", None, (LOGIN, 403, 403, 502)),
    ("post", "/admin/cameras/camera/{assigned}/test-connection/", {}, (LOGIN, 403, 403, 200)),
    *model_admin("cameras/discoveryjob", "discovery_job", add=403),
    *model_admin("cameras/discovereddevice", "device", add=403),
]


@pytest.mark.django_db
@matrix.parametrize(MATRIX)
def test_matrix(world, role, method, path, body, expected):
    matrix.check(role, world["users"], method, path, body, expected, world["names"])
