"""backup_plates, restore_plates and lpr_server, against camera doubles."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from plates.models import AnprCamera, DefaultCameraCredentials, PlateBackup, PlateJob


@pytest.mark.django_db
def test_backup_by_address_saves_the_device_bytes_and_a_normalised_copy(doubles, tmp_path, capsys):
    cam, _ = doubles("A", register=False)
    for _ in range(3):
        cam.seed("ABB138")  # duplicates, as the original product left them
    cam.seed("BLK001", "blackList", "2024-01-01", "2030-01-01")
    call_command(
        "backup_plates", "-u", "admin", "-c", "cam-secret-1", "-i", f"127.0.0.1:{cam.port}", "-b", str(tmp_path)
    )
    raw = sorted(tmp_path.glob("license_plate_data_*[0-9]Z.csv"))
    normalized = sorted(tmp_path.glob("*.normalized.csv"))
    assert len(raw) == len(normalized) == 1
    assert raw[0].read_bytes() == cam.export_csv()
    assert raw[0].read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in raw[0].read_bytes()
    assert normalized[0].read_text().splitlines() == [
        "plate,list_type,valid_from,valid_until",
        "ABB138,allow,2024-03-26,5000-12-01",
        "BLK001,block,2024-01-01,2030-01-01",
    ]
    assert "cam-secret-1" not in capsys.readouterr().out
    # Long options and -p for the password, as the seed documents them.
    call_command(
        "backup_plates", "--user", "admin", "-p", "cam-secret-1", "--ip", "127.0.0.1", "--port", str(cam.port),
        "--backup-path", str(tmp_path / "second"),
    )  # fmt: skip
    assert len(list((tmp_path / "second").glob("*.csv"))) == 2


@pytest.mark.django_db
def test_backup_wrong_password_is_one_attempt_and_a_clear_error(doubles, tmp_path):
    cam, _ = doubles("B", register=False)
    with pytest.raises(CommandError, match="refused the credentials"):
        call_command("backup_plates", "-u", "admin", "-c", "wrong", "-i", f"127.0.0.1:{cam.port}", "-b", str(tmp_path))
    assert cam.failed_logins == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_backup_all_and_restore(doubles, capsys):
    cam1, c1 = doubles("A")
    cam2, c2 = doubles("B")
    down, c3 = doubles("A")
    for camera in (c1, c2, c3):
        AnprCamera.objects.create(camera=camera)
    cam1.seed("ONE001")
    cam2.seed("TWO001")
    down.stop()
    with pytest.raises(CommandError, match="1 camera"):
        call_command("backup_plates", "--all")
    assert PlateBackup.objects.count() == 2
    backup = PlateBackup.objects.get(camera=c1)
    assert backup.plate_count == 1

    cam1.records.clear()
    cam1.seed("EXTRA1")
    call_command("restore_plates", "--backup", str(backup.pk))
    assert sorted(cam1.plates()) == ["EXTRA1", "ONE001"]  # additive
    call_command("restore_plates", "--backup", str(backup.pk), "--camera", c2.address, "--replace-all")
    assert cam2.plates() == ["ONE001"]
    assert PlateJob.objects.filter(operation="restore", source="command", status="succeeded").count() == 2


@pytest.mark.django_db
def test_restore_never_puts_an_empty_list_over_a_full_one(doubles):
    cam, camera = doubles("A")
    AnprCamera.objects.create(camera=camera)
    call_command("backup_plates", "-i", camera.address)  # registered: its own credentials
    cam.seed("KEEP01")
    backup = PlateBackup.objects.get()
    assert backup.plate_count == 0
    with pytest.raises(CommandError, match="no plates"):
        call_command("restore_plates", "--backup", str(backup.pk), "--replace-all")
    assert cam.plates() == ["KEEP01"]
    call_command("restore_plates", "--backup", str(backup.pk), "--replace-all", "--allow-empty")
    assert cam.plates() == []


@pytest.mark.django_db
def test_lpr_server_keeps_the_seed_command_line(monkeypatch):
    called = {}
    monkeypatch.setattr(
        "plates.management.commands.lpr_server.call_command", lambda name, **kw: called.update(name=name, **kw)
    )
    call_command("lpr_server", "-u", "admin", "-c", "s3cret", "-p", "8099")
    assert called == {"name": "runstack", "port": 8099}
    creds = DefaultCameraCredentials.objects.get()
    assert (creds.username, creds.password) == ("admin", "s3cret")
    call_command("lpr_server", "--usuario", "op", "--contraseña", "other")
    assert called["port"] == 8080
    assert DefaultCameraCredentials.objects.get().username == "op"


@pytest.mark.django_db
def test_default_credentials_are_used_for_cameras_without_their_own(doubles):
    from plates import services

    _cam, camera = doubles("A")
    camera.username = camera.password = ""
    camera.save()
    services.set_default_credentials(username="admin", password="cam-secret-1")
    client = services.client_for_camera(camera)
    assert client.list_all() == []
