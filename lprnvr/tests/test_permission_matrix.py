"""Every endpoint of the foundation x anonymous/viewer/user/admin, with the expected status.

The README's permission matrix is the human version of this table.
"""

import pytest

from cameras.tests.factories import CameraFactory
from conftest import client_for

ROLES = ("anonymous", "viewer", "user", "admin")


@pytest.fixture
def world(make_user):
    assigned = CameraFactory(ip="127.0.0.61")
    unassigned = CameraFactory(ip="127.0.0.62")
    users = {role: make_user(role, username=f"m-{role}") for role in ("viewer", "user", "admin")}
    for role in ("viewer", "user"):
        users[role].cameras.add(assigned)
    other = make_user("viewer", username="m-other")
    other.cameras.add(assigned)
    return {"assigned": assigned, "unassigned": unassigned, "users": users, "other": other}


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
    ("post", "/api/auth/logout", None, (401, 200, 200, 200)),
    ("post", "/api/auth/register", {"username": "newbie", "password": "s3cret-pass-x"}, (401, 403, 403, 201)),
    ("get", "/health", None, (200, 200, 200, 200)),
    ("get", "/stats", None, (401, 200, 200, 200)),
    ("get", "/api/schema/", None, (200, 200, 200, 200)),
    ("get", "/api/docs/", None, (200, 200, 200, 200)),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_matrix(world, role, method, path, body, expected):
    user = None if role == "anonymous" else world["users"][role]
    client = client_for(user)
    url = path.format(other=world["other"].id, assigned=world["assigned"].id, unassigned=world["unassigned"].id)
    response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    assert response.status_code == expected[ROLES.index(role)], response.content
