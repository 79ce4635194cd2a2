import factory

from lprnvr.alerts.models import EventKind, Rule, Target


class WebhookTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    name = factory.Sequence(lambda n: f"hook {n}")
    kind = Target.Kind.WEBHOOK
    url = "http://127.0.0.1:9/hook"
    secret = "hook-secret-1"
    timeout_seconds = 3.0


class MqttTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    name = factory.Sequence(lambda n: f"broker {n}")
    kind = Target.Kind.MQTT
    host = "127.0.0.1"
    port = 1883
    timeout_seconds = 5.0


class EmailTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    name = factory.Sequence(lambda n: f"mail {n}")
    kind = Target.Kind.EMAIL
    recipients = "guard@example.com\nboss@example.com"


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"rule {n}")
    kinds = factory.LazyFunction(lambda: [EventKind.PLATE_BLOCKED])
    cooldown_seconds = 0

    @factory.post_generation
    def targets(self, create, extracted, **kwargs):
        if create and extracted:
            self.targets.set(extracted)

    @factory.post_generation
    def cameras(self, create, extracted, **kwargs):
        if create and extracted:
            self.all_cameras = False
            self.save(update_fields=["all_cameras"])
            self.cameras.set(extracted)
