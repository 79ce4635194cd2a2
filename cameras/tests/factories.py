import factory

from cameras.models import Brand, Camera


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Camera

    name = factory.Sequence(lambda n: f"Gate {n}")
    ip = factory.Sequence(lambda n: f"127.0.{(n // 250) % 250}.{n % 250 + 2}")
    http_port = 80
    rtsp_port = 554
    brand = Brand.HIKVISION
    channel = 1
    username = "admin"
    password = "cam-secret-1"
