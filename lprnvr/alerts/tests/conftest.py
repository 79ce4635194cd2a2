import pytest

from lprnvr.alerts import services

from .receivers import SmtpReceiver, WebhookReceiver


@pytest.fixture(autouse=True)
def _alerts_settings(settings):
    settings.ALERTS_RETRY_BASE_DELAY = 0.2
    settings.ALERTS_RETRY_MAX_DELAY = 1.0
    settings.ALERTS_MAX_ATTEMPTS = 3
    settings.PUBLIC_BASE_URL = "https://nvr.example.com"
    services.forget_watched_kinds()
    yield
    services.forget_watched_kinds()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp(settings):
    receiver = SmtpReceiver().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", receiver.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield receiver
    receiver.stop()
