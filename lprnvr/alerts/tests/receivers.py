"""Real receivers for the alert tests: an HTTP server (the webhook), an SMTP server, an MQTT
subscriber on the machine's Mosquitto (127.0.0.1:1883). All on loopback."""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.waiting import free_port, wait_for

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


class HttpServer(ThreadingHTTPServer):
    allow_reuse_address = True  # stopped and started again on its port: a receiver that came back
    daemon_threads = True


class TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.time)  # when it arrived (wall clock: the benchmark's latency)

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server recording every POST. `status` is what it answers, `delay` how long it takes;
    `stop()` then `start()` again on the same port is a receiver that was down and came back."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.port = free_port()
        self.status, self.delay = status, delay
        self.received: list[Received] = []
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?token=abc"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = HttpServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait(self, count: int = 1, timeout: float = 20) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, timeout=timeout, message=f"{count} webhook POST(s)")
        return self.received


class SmtpReceiver:
    """A small SMTP server (RFC 5321's commands a client sends to deliver), keeping each message."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._server = None

    def start(self) -> SmtpReceiver:
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                sender, rcpts = "", []
                self.reply("220 test SMTP ready")
                while line := self.rfile.readline():
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 test")
                    elif verb == "MAIL":
                        sender, rcpts = command.split(":", 1)[1].strip(" <>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(command.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        message = email.message_from_bytes(b"".join(data), policy=email.policy.default)
                        receiver.envelopes.append((sender, rcpts))
                        receiver.messages.append(message)
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP
                        self.reply("250 OK")

        self._server = TcpServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait(self, count: int = 1, timeout: float = 20):
        wait_for(lambda: len(self.messages) >= count, timeout=timeout, message=f"{count} mail(s)")
        return self.messages


@dataclass
class MqttMessage:
    topic: str
    payload: bytes
    retain: bool
    at: float = field(default_factory=time.time)


@dataclass
class MqttSubscriber:
    """A paho client subscribed to `<prefix>/#` (and discovery topics) on the test broker."""

    prefix: str = field(default_factory=lambda: f"lprnvr-test-{uuid.uuid4().hex[:10]}")
    extra: tuple[str, ...] = ()
    messages: list[MqttMessage] = field(default_factory=list)

    def start(self) -> MqttSubscriber:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        ready = threading.Event()
        client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:12]}")

        def on_connect(c, userdata, flags, reason_code, properties=None):
            c.subscribe([(f"{self.prefix}/#", 1), *[(t, 1) for t in self.extra]])

        def on_subscribe(c, userdata, mid, reason_codes, properties=None):
            ready.set()

        def on_message(c, userdata, msg):
            self.messages.append(MqttMessage(msg.topic, msg.payload, bool(msg.retain)))

        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
        client.connect(MQTT_HOST, MQTT_PORT)
        client.loop_start()
        assert ready.wait(10), "the MQTT subscriber could not subscribe"
        self.client = client
        return self

    def stop(self) -> None:
        # Retained messages outlive the test on the shared broker: an empty retained payload clears each.
        for topic in {m.topic for m in self.messages if m.retain or m.topic.endswith(("/status", "/config"))}:
            self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()

    def on(self, topic: str) -> list[MqttMessage]:
        return [m for m in self.messages if m.topic == topic]

    def wait(self, topic: str, count: int = 1, timeout: float = 20) -> list[MqttMessage]:
        wait_for(lambda: len(self.on(topic)) >= count, timeout=timeout, message=f"{count} message(s) on {topic}")
        return self.on(topic)
