"""MQTT through paho-mqtt: one connection per broker and process, kept open between messages.

A kept connection is what makes the last will mean something: the broker publishes
`<prefix>/status = offline` (retained) when this process drops off without saying goodbye, and we
publish `online` on every connect. A connection that fails is closed and forgotten; the next
message opens a new one, so a broker that was down is simply reached again.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from . import PermanentError, TransientError

ONLINE, OFFLINE = b"online", b"offline"  # our own status, under the last will topic


@dataclass(frozen=True)
class Broker:
    host: str
    port: int = 1883
    tls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)  # never in a log line or a traceback's repr
    will_topic: str = ""  # "" : no last will (and no online/offline status)
    keepalive: int = 60


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = False
    qos: int = 1


class Connection:
    """One live client. `publish` waits until the broker acknowledged every message (QoS 1)."""

    def __init__(self, broker: Broker, timeout: float):
        self.broker = broker
        self.announced: set[str] = set()  # "once per connection" topics already sent (discovery)
        self._connected = threading.Event()
        self._refused: str = ""
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"lprnvr-{os.getpid()}-{secrets.token_hex(3)}",
            protocol=paho.MQTTv311,
        )
        client.connect_timeout = timeout
        if broker.username:
            client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            client.tls_set()
        if broker.will_topic:
            client.will_set(broker.will_topic, OFFLINE, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self.client = client
        try:
            client.connect(broker.host, broker.port, keepalive=broker.keepalive)
        except OSError as exc:
            raise TransientError(f"broker {broker.host}:{broker.port}: {exc.strerror or type(exc).__name__}") from None
        except Exception as exc:  # ssl errors, bad host names: all a reason, never a crash
            raise TransientError(f"broker {broker.host}:{broker.port}: {type(exc).__name__}") from None
        client.loop_start()
        if not self._connected.wait(timeout) or self._refused:
            self.close()
            reason = self._refused or f"no answer to CONNECT within {timeout:g} s"
            error = PermanentError if "authori" in reason.lower() or "password" in reason.lower() else TransientError
            raise error(f"broker {broker.host}:{broker.port}: {reason}")
        if broker.will_topic:
            self.publish([Message(broker.will_topic, ONLINE, retain=True)], timeout)

    def _on_connect(self, client, userdata, flags, reason_code: ReasonCode, properties=None) -> None:
        if reason_code.is_failure:
            self._refused = str(reason_code)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self._connected.clear()

    @property
    def alive(self) -> bool:
        return self._connected.is_set() and not self._refused and self.client.is_connected()

    def publish(self, messages: list[Message], timeout: float) -> None:
        infos = []
        for message in messages:
            info = self.client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise TransientError(f"publish to {message.topic}: {paho.error_string(info.rc)}")
            infos.append((message, info))
        for message, info in infos:
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                raise TransientError(f"publish to {message.topic}: {exc}") from None
            if not info.is_published():
                raise TransientError(f"publish to {message.topic}: not acknowledged within {timeout:g} s")

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


_pool: dict[tuple[int, Broker], Connection] = {}
_pool_lock = threading.Lock()  # guards the two dicts; each broker's own lock guards its connecting
_connecting: dict[tuple[int, Broker], threading.Lock] = {}


def publish(broker: Broker, messages: list[Message], *, timeout: float, once: list[Message] = ()) -> None:
    """Publish `messages` (and, the first time on this connection, `once`: e.g. Home Assistant
    discovery configs) and wait for the broker's acknowledgements. TransientError when the broker
    is unreachable or does not acknowledge; PermanentError when it refuses our credentials."""
    key = (os.getpid(), broker)  # a forked worker never uses its parent's socket
    with _pool_lock:
        lock = _connecting.setdefault(key, threading.Lock())
    with lock:  # a broker that takes its time to answer holds up only its own messages
        connection = _pool.get(key)
        if connection is not None and not connection.alive:
            with _pool_lock:
                _pool.pop(key, None)
            _quietly_close(connection)
            connection = None
        if connection is None:
            connection = Connection(broker, timeout)
            with _pool_lock:
                _pool[key] = connection
    try:
        first = [m for m in once if m.topic not in connection.announced]
        connection.publish([*first, *messages], timeout)
        connection.announced.update(m.topic for m in first)
    except Exception:
        with _pool_lock:
            if _pool.get(key) is connection:
                _pool.pop(key, None)
        _quietly_close(connection)
        raise


def close_all() -> None:
    """Close every connection this process holds (tests; a worker shutting down)."""
    with _pool_lock:
        connections = list(_pool.values())
        _pool.clear()
    for connection in connections:
        _quietly_close(connection)


def _quietly_close(connection: Connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: S110  (a connection that is already gone)
        pass
