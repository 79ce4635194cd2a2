import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["error"] and body["code"]
    return body


def test_malformed_json_is_400(as_user, admin_user):
    response = as_user(admin_user).generic("POST", "/api/cameras/", "{not json", content_type="application/json")
    assert_error_shape(response, 400)


def test_oversized_body_is_413(as_user, admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = as_user(admin_user).generic("POST", "/api/cameras/", "x" * 2000, content_type="application/json")
    assert_error_shape(response, 413)


def test_404_405_for_api_and_rest_clients(api_client):
    assert_error_shape(api_client.get("/api/nothing-here"), 404)
    assert_error_shape(api_client.get("/no/such/page", HTTP_ACCEPT="application/json"), 404)
    assert_error_shape(api_client.get("/api/auth/login"), 405)


def test_browser_gets_html_admin_pages():
    response = Client().get("/admin/login/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"<form" in response.content


def test_401_and_403_shapes(api_client, as_user, make_user):
    assert_error_shape(api_client.get("/api/users"), 401)
    assert_error_shape(as_user(make_user("user")).get("/api/users"), 403)


@override_settings(DEBUG=False)
def test_500_is_json(as_user, admin_user, monkeypatch):
    from cameras.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(views.CameraListView, "get", boom)
    body = assert_error_shape(as_user(admin_user).get("/api/cameras/list"), 500)
    assert "kaboom" not in body["error"]


@override_settings(DEBUG=False)
def test_a_browser_meets_a_500_as_a_page_in_its_language(admin_user, camera, monkeypatch):
    from django.test import Client

    from recordings import status

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(status, "state_of", boom)  # the camera list's state column fails
    client = Client(raise_request_exception=False, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(admin_user)
    response = client.get("/admin/cameras/camera/")
    text = response.content.decode()
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert '<html lang="es">' in text and "kaboom" not in text and 'href="/admin/"' in text


def test_507_shape():
    from rest_framework.test import APIRequestFactory

    from lprnvr.errors import InsufficientStorage, api_exception_handler

    request = APIRequestFactory().get("/")
    response = api_exception_handler(InsufficientStorage(), {"request": request})
    assert response.status_code == 507
    assert response.data["code"] == "insufficient_storage"


def test_health_ok(api_client, as_user, admin_user):
    response = api_client.get("/health")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok"}  # anonymous: the status, no paths or byte counts
    detail = as_user(admin_user).get("/health")
    assert set(detail.json()["checks"]) == {"database", "broker", "disk", "recordings", "ffmpeg"}


def test_health_503_names_failing_part_to_admins_only(api_client, as_user, admin_user, make_user, settings):
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    response = api_client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "failing"}
    assert as_user(make_user("viewer")).get("/health").json() == {"status": "failing"}
    detail = as_user(admin_user).get("/health")
    assert detail.status_code == 503 and detail.json()["failing"] == ["ffmpeg"]


def test_health_disk_floor(api_client, as_user, admin_user, settings):
    settings.DISK_FREE_FLOOR_BYTES = 1 << 62
    anonymous = api_client.get("/health")
    assert anonymous.status_code == 503
    assert str(settings.RECORDINGS_DIR) not in anonymous.content.decode()
    response = as_user(admin_user).get("/health")
    assert response.status_code == 503
    assert "disk" in response.json()["failing"]


def test_stats_counts(as_user, admin_user, camera):
    from plates.models import PlateJob

    PlateJob.objects.create(operation="add")
    PlateJob.objects.create(operation="add", status="succeeded")
    body = as_user(admin_user).get("/stats").json()
    assert body["cameras"] == 1 and body["users"] == 1
    assert body["queued_jobs"] == 1 and body["jobs"] == {"plates": 1, "discovery": 0}
    assert {"active_streams", "active_recordings", "recordings", "broker_messages"} <= set(body)


def test_stats_count_only_what_the_caller_may_see(as_user, admin_user, make_user, camera):
    from cameras.tests.factories import CameraFactory
    from plates.models import PlateJob

    viewer = make_user("viewer", username="stats-viewer")
    viewer.cameras.add(camera)
    CameraFactory()
    PlateJob.objects.create(operation="add")  # nobody's camera: an admin's job
    body = as_user(viewer).get("/stats").json()
    assert body["cameras"] == 1 and body["users"] == 1 and body["queued_jobs"] == 0
    assert as_user(admin_user).get("/stats").json()["cameras"] == 2


def test_openapi_schema_and_docs(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = api_client.get("/api/docs/", HTTP_ACCEPT="text/html")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


def test_spanish_interface(api_client):
    page = Client().get("/admin/login/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="es")
    assert "Administración de lprnvr" in page.content.decode()
    error = api_client.post(
        "/api/auth/login", {"username": "x", "password": "y"}, format="json", HTTP_ACCEPT_LANGUAGE="es"
    )
    assert error.json()["error"] == "Usuario o contraseña incorrectos."


def test_admin_language_switch(admin_user):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/", HTTP_ACCEPT="text/html")
    assert b'name="language"' in page.content
    client.post("/i18n/setlang/", {"language": "es", "next": "/admin/"})
    assert "Administración de lprnvr" in client.get("/admin/", HTTP_ACCEPT="text/html").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_a_bad_token_is_a_plain_message(api_client, token):
    response = api_client.get("/api/cameras/list", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    body = response.json()
    assert "ErrorDetail" not in body["error"] and "{" not in body["error"], body
    assert body["code"] == "token_not_valid"


@pytest.mark.django_db
def test_a_revoked_token_says_so_plainly(make_user):
    from accounts.services import issue_tokens

    user = make_user("viewer", username="revoked-one")
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['token']}")
    assert client.post("/api/auth/logout").status_code == 200
    body = client.get("/api/cameras/list").json()
    assert body["status"] == 401 and "ErrorDetail" not in body["error"], body
