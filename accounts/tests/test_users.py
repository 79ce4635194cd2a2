import pytest

from cameras.tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


def test_list_and_detail_never_leak_password(as_user, admin_user, make_user):
    other = make_user("viewer", username="vera")
    cam = CameraFactory(ip="127.0.0.50")
    other.cameras.add(cam)
    client = as_user(admin_user)
    users = client.get("/api/users").json()
    assert {u["username"] for u in users} == {"admin", "vera"}
    assert all("password" not in u for u in users)
    detail = client.get(f"/api/users/{other.id}").json()
    assert detail["camera_ips"] == ["127.0.0.50"]
    assert detail["role"] == "viewer"


def test_put_changes_role(as_user, admin_user, make_user):
    other = make_user("viewer")
    response = as_user(admin_user).put(f"/api/users/{other.id}", {"role": "user"}, format="json")
    assert response.status_code == 200
    assert response.json()["role"] == "user"
    other.refresh_from_db()
    assert other.role == "user"


def test_put_rejects_unknown_role(as_user, admin_user, make_user):
    other = make_user("viewer")
    response = as_user(admin_user).put(f"/api/users/{other.id}", {"role": "root"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["fields"]


def test_last_admin_cannot_be_demoted_deactivated_or_deleted(as_user, admin_user):
    client = as_user(admin_user)
    assert client.put(f"/api/users/{admin_user.id}", {"role": "user"}, format="json").status_code == 409
    assert client.put(f"/api/users/{admin_user.id}", {"is_active": False}, format="json").status_code == 409
    assert client.delete(f"/api/users/{admin_user.id}").status_code == 409
    admin_user.refresh_from_db()
    assert admin_user.is_admin and admin_user.is_active


def test_admin_can_be_demoted_when_another_exists(as_user, admin_user, make_user):
    second = make_user("admin", username="second")
    response = as_user(admin_user).put(f"/api/users/{second.id}", {"role": "viewer"}, format="json")
    assert response.status_code == 200
    second.refresh_from_db()
    assert not second.is_superuser


def test_delete_user(as_user, admin_user, make_user):
    other = make_user()
    client = as_user(admin_user)
    assert client.delete(f"/api/users/{other.id}").json() == {"message": "User deleted"}
    assert client.get(f"/api/users/{other.id}").status_code == 404


def test_assign_and_unassign_cameras_by_ip(as_user, admin_user, make_user):
    other = make_user()
    CameraFactory(ip="127.0.0.21")
    CameraFactory(ip="127.0.0.22", http_port=8080)
    client = as_user(admin_user)
    response = client.post(
        f"/api/users/{other.id}/cameras", {"camera_ips": ["127.0.0.21", "127.0.0.22:8080"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["camera_ips"] == ["127.0.0.21", "127.0.0.22:8080"]
    assert client.delete(f"/api/users/{other.id}/cameras/127.0.0.21").status_code == 200
    assert client.get(f"/api/users/{other.id}").json()["camera_ips"] == ["127.0.0.22:8080"]


def test_unknown_ips_are_400_naming_them_and_nothing_assigned(as_user, admin_user, make_user):
    other = make_user()
    CameraFactory(ip="127.0.0.21")
    response = as_user(admin_user).post(
        f"/api/users/{other.id}/cameras", {"camera_ips": ["127.0.0.21", "10.9.9.9", "bogus"]}, format="json"
    )
    assert response.status_code == 400
    errors = " ".join(response.json()["fields"]["camera_ips"])
    assert "10.9.9.9" in errors and "bogus" in errors
    assert other.cameras.count() == 0


def test_unassign_unknown_camera_is_404(as_user, admin_user, make_user):
    other = make_user()
    assert as_user(admin_user).delete(f"/api/users/{other.id}/cameras/127.9.9.9").status_code == 404


def test_role_decides_admin_site_powers(make_user, client):
    assert make_user("admin").is_superuser
    viewer = make_user("viewer")
    assert viewer.is_staff and not viewer.is_superuser
    # a viewer signs in to the web pages but sees no data model there
    client.force_login(viewer)
    assert client.get("/admin/recordings/recording/live/").status_code == 200
    assert client.get("/admin/cameras/camera/").status_code == 403
    assert client.get("/admin/accounts/user/").status_code == 403


def test_createsuperuser_makes_an_administrator(db):
    from accounts.models import User

    user = User.objects.create_superuser("root2", password="x-very-secret-1")
    assert user.role == "admin" and user.is_superuser and user.is_admin
