import factory

from plates.models import ListType, Plate


class PlateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plate
        django_get_or_create = ("number",)

    number = factory.Sequence(lambda n: f"TST{n:04d}")
    list_type = ListType.ALLOW
