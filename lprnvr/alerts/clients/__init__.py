"""Raw I/O to the receivers (HTTP, MQTT, SMTP): timeouts and typed errors, no ORM.

Every client raises `TransientError` for what may work later (refused connection, timeout, 5xx, a
broker that is down) and `PermanentError` for what will not (a 4xx, a refused recipient).
"""


class DeliveryError(Exception):
    """A message that did not reach its receiver. The text names the reason, never a secret."""


class TransientError(DeliveryError):
    """Worth another attempt later."""


class PermanentError(DeliveryError):
    """Another attempt would fail the same way."""
