from django.apps import AppConfig


class LprnvrConfig(AppConfig):
    name = "lprnvr"
    verbose_name = "lprnvr"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
