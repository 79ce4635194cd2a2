"""Settings for lprnvr, read from the environment (django-environ).

Every variable, with its default, is listed in `.env.example`. With no configuration at all the
system runs on embedded defaults: SQLite under `var/` and a Celery broker on the filesystem.
"""

from __future__ import annotations

import socket
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from lprnvr.secret_files import persistent_secret

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


SECRET_KEY = env.str("SECRET_KEY", default="") or persistent_secret(VAR_DIR / "secret_key")
DEBUG = env.bool("DEBUG", default=False)
# A self-hosted appliance is reached by its LAN address, which we cannot know in advance: "*" by
# default. Deployments set the names they are reached by; with "*" the Host header is not trusted to
# build absolute URLs (see PUBLIC_BASE_URL).
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
if "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]"]  # healthchecks and `manage.py` tools on the box
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The URL clients reach this server by (e.g. https://nvr.example.com): absolute URLs handed out (the
# live `hls_url`) are built from it. Empty: from the request's Host when ALLOWED_HOSTS names the
# hosts, else a path only (an arbitrary Host header never ends up in a URL we hand out).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")

# --- TLS deployment (behind a reverse proxy that terminates HTTPS) ----------------------------
# Trust X-Forwarded-Proto from the proxy (only behind one that sets it, never exposed directly).
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over HTTPS: cookies only over TLS and HSTS (sent on requests Django sees as secure: behind a
# proxy, that needs TRUST_X_FORWARDED_PROTO). Redirecting plain HTTP is usually the proxy's job.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # the container healthcheck calls plain HTTP on loopback
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "lprnvr.apps.LprnvrAdminConfig",  # django.contrib.admin, with the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "lprnvr",
    "accounts",
    "cameras",
    "recordings",
    "plates",
    "lprnvr.monitoring",
    "lprnvr.alerts",
]

MIDDLEWARE = [
    "lprnvr.monitoring.latency.RequestLatencyMiddleware",  # first: times every request, refused ones too
    "lprnvr.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lprnvr.middleware.JSONErrorMiddleware",
]

ROOT_URLCONF = "lprnvr.urls"
WSGI_APPLICATION = "lprnvr.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# hls.js is installed from npm at install time (`make assets`), never copied into the repository.
NODE_MODULES_DIR = BASE_DIR / "node_modules"
if NODE_MODULES_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor", NODE_MODULES_DIR))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Request bodies larger than this get 413 (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Credentials at rest -------------------------------------------------------------------
# Fernet keys, newest first: the first encrypts, all decrypt (MultiFernet), so a key can be
# rotated by prepending a new one and running `manage.py rotate_encryption_keys`.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    persistent_secret(VAR_DIR / "field_encryption_key")
]

# --- Cache (login throttling, discovery results) ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CACHE_TTL = env.int("CACHE_TTL", default=300)

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"  # kombu's default is ./control, in the working directory
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        "control_folder": str(_control_dir),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or REDIS_URL or None
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# --- REST framework / JWT ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.RevocableJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["lprnvr.parsers.JSONObjectParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "lprnvr.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

JWT_TOKEN_EXPIRATION = env.int("JWT_TOKEN_EXPIRATION", default=3600)
JWT_REFRESH_EXPIRATION = env.int("JWT_REFRESH_EXPIRATION", default=7 * 24 * 3600)
from datetime import timedelta  # noqa: E402

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_TOKEN_EXPIRATION),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_EXPIRATION),
    "ALGORITHM": env.str("JWT_ALGORITHM", default="HS256"),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
    # Done by accounts.services.rotate_refresh_token (the old refresh token is spent), which also
    # checks the account's token generation (`gen` claim, accounts.authentication).
    "ROTATE_REFRESH_TOKENS": True,
}
# A spent refresh token used again later than this (seconds) was stolen or leaked: every session of
# the account ends. Sooner, it is two tabs refreshing at once, and only that request is refused.
REFRESH_REUSE_GRACE_SECONDS = env.int("REFRESH_REUSE_GRACE_SECONDS", default=30)

# Reverse proxies in front of the web server (client addresses come from X-Forwarded-For).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# Failed logins (API, admin site, HTTP Digest; accounts.throttling): a username from one address
# gets this many in LOGIN_FAILURE_WINDOW, an address over all usernames this many in
# LOGIN_ADDRESS_FAILURE_WINDOW; then 429 with Retry-After (a message on the admin's login page).
LOGIN_MAX_FAILURES_PER_USER = env.int("LOGIN_MAX_FAILURES_PER_USER", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=300)
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default=30)
LOGIN_ADDRESS_FAILURE_WINDOW = env.int("LOGIN_ADDRESS_FAILURE_WINDOW", default=3600)

SPECTACULAR_SETTINGS = {
    "TITLE": "lprnvr API",
    "DESCRIPTION": "Self-hosted video management: cameras, live HLS, PC-NVR recording, ANPR plate lists.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI served from this server (sidecar package), not from a CDN: sites are often offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- CORS ----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api/|AddPlate|DeletePlate|UpdatePlate).*$"

# --- Cameras and media ----------------------------------------------------------------------
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="ffmpeg")
FFPROBE_BINARY = env.str("FFPROBE_BINARY", default="ffprobe")
MAX_STREAMS = env.int("MAX_STREAMS", default=128)
STREAM_TIMEOUT = env.int("STREAM_TIMEOUT", default=300)
MAX_RECORDINGS_PER_USER = env.int("MAX_RECORDINGS_PER_USER", default=50)
HLS_OUTPUT_DIR = Path(env.str("HLS_OUTPUT_DIR", default=str(VAR_DIR / "hls")))
RECORDINGS_DIR = Path(env.str("RECORDINGS_DIR", default=str(VAR_DIR / "recordings")))
BACKUPS_DIR = Path(env.str("BACKUPS_DIR", default=str(VAR_DIR / "backups")))
# Free space (bytes) under which /health reports the disk as failing.
DISK_FREE_FLOOR_BYTES = env.int("DISK_FREE_FLOOR_BYTES", default=1024**3)

# Per-brand RTSP URL templates. Placeholders: {username} {password} (URL-quoted), {host} {port}
# {channel} {subtype} (0 main, 1 sub) {stream_no} (1 main, 2 sub).
RTSP_TEMPLATES = env.json(
    "RTSP_TEMPLATES",
    default={
        "generic": "rtsp://{username}:{password}@{host}:{port}/stream{stream_no}",
        "hikvision": "rtsp://{username}:{password}@{host}:{port}/Streaming/Channels/{channel}0{stream_no}",
        "dahua": "rtsp://{username}:{password}@{host}:{port}/cam/realmonitor?channel={channel}&subtype={subtype}",
        "xmeye": "rtsp://{host}:{port}/user={username}&password={password}&channel={channel}&stream={subtype}.sdp",
        "onvif": "rtsp://{username}:{password}@{host}:{port}/onvif{stream_no}",
    },
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Plates (ANPR allow/block lists over ISAPI) ------------------------------------------------
PLATES_CONNECT_TIMEOUT = env.float("PLATES_CONNECT_TIMEOUT", default=3.0)
PLATES_READ_TIMEOUT = env.float("PLATES_READ_TIMEOUT", default=10.0)
PLATES_BATCH_SIZE = env.int("PLATES_BATCH_SIZE", default=50)
PLATES_SEARCH_PAGE_SIZE = env.int("PLATES_SEARCH_PAGE_SIZE", default=100)
PLATES_SEARCH_EACH_MAX = env.int("PLATES_SEARCH_EACH_MAX", default=10)
PLATES_RETRY_ATTEMPTS = env.int("PLATES_RETRY_ATTEMPTS", default=5)
PLATES_RETRY_BASE_DELAY = env.float("PLATES_RETRY_BASE_DELAY", default=2.0)
PLATES_RETRY_MAX_DELAY = env.float("PLATES_RETRY_MAX_DELAY", default=60.0)
PLATES_LEGACY_WAIT = env.float("PLATES_LEGACY_WAIT", default=10.0)
PLATES_CONVERGE_INTERVAL = env.int("PLATES_CONVERGE_INTERVAL", default=300)
PLATES_BACKUP_HOUR = env.int("PLATES_BACKUP_HOUR", default=3)
PLATES_DIGEST_REALM = env.str("PLATES_DIGEST_REALM", default="lprnvr")
PLATES_CAMERA_LEASE = env.int("PLATES_CAMERA_LEASE", default=900)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["plates-converge"] = {"task": "plates.converge_all", "schedule": PLATES_CONVERGE_INTERVAL}
# Weekly schedules and visitor passes: the server flips what the firmware's date fields cannot say.
PLATES_SCHEDULE_TICK = env.float("PLATES_SCHEDULE_TICK", default=60.0)
CELERY_BEAT_SCHEDULE["plates-schedule-tick"] = {"task": "plates.schedule_tick", "schedule": PLATES_SCHEDULE_TICK}
CELERY_BEAT_SCHEDULE["plates-backup"] = {
    "task": "plates.backup_all",
    "schedule": crontab(hour=PLATES_BACKUP_HOUR, minute=0),
}
AUTHENTICATION_BACKENDS = ["plates.auth.DigestRecordingModelBackend"]
# Plate reads (the cameras' own ANPR events): pictures on disk, retention, the clip around a read.
READS_DIR = Path(env.str("READS_DIR", default=str(VAR_DIR / "reads")))
READS_DEDUP_SECONDS = env.float("READS_DEDUP_SECONDS", default=5.0)  # same plate, same camera, no UUID: one read
READS_MAX_PICTURE_BYTES = env.int("READS_MAX_PICTURE_BYTES", default=2 * 1024**2)  # a bigger picture is skipped
READS_RETENTION_DAYS = env.int("READS_RETENTION_DAYS", default=90)
READS_MAX_BYTES = env.int("READS_MAX_BYTES", default=0)  # 0: no cap on pictures, only days and the free-space floor
READS_RETENTION_INTERVAL = env.int("READS_RETENTION_INTERVAL", default=600)
READS_CLIP_BEFORE = env.int("READS_CLIP_BEFORE", default=10)  # seconds of video before the read
READS_CLIP_AFTER = env.int("READS_CLIP_AFTER", default=10)
READS_FEED_WAIT = env.float("READS_FEED_WAIT", default=25.0)  # the live feed's long-poll
CELERY_BEAT_SCHEDULE["plates-reads-retention"] = {
    "task": "plates.reads_retention",
    "schedule": float(READS_RETENTION_INTERVAL),
}
# The event listener (`manage.py run_events`, plates/events/supervisor.py): one armed alertStream per
# camera in arming mode, the push endpoint for cameras in listening mode.
EVENTS_RUN_DIR = Path(env.str("EVENTS_RUN_DIR", default=str(VAR_DIR / "events")))
EVENTS_POLL_INTERVAL = env.float("EVENTS_POLL_INTERVAL", default=2.0)  # desired state re-read (a NOTIFY wakes it)
EVENTS_SILENCE_SECONDS = env.float("EVENTS_SILENCE_SECONDS", default=40.0)  # no heartbeat this long: restart
EVENTS_BACKOFF_STEPS = [float(s) for s in env.list("EVENTS_BACKOFF_STEPS", default=["1", "2", "5", "10", "30", "60"])]
EVENTS_HEALTHY_AFTER = env.float("EVENTS_HEALTHY_AFTER", default=30.0)  # a stream up this long resets the backoff
# A camera found to be ANPR (its firmware family detected) gets an armed plate-read source by itself.
EVENTS_AUTO_ENABLE = env.bool("EVENTS_AUTO_ENABLE", default=True)
# How often a listening-mode camera is asked for the reads it could not post (our door was down).
EVENTS_BACKFILL_INTERVAL = env.float("EVENTS_BACKFILL_INTERVAL", default=300.0)
EVENTS_INGEST_WORKERS = env.int("EVENTS_INGEST_WORKERS", default=4)  # threads (and DB connections) storing reads
EVENTS_MAX_PART_BYTES = env.int("EVENTS_MAX_PART_BYTES", default=4 * 1024**2)  # a bigger part is skipped
# A bigger camera POST is refused (and counted); keep it under MAX_REQUEST_BYTES, which refuses first.
EVENTS_PUSH_MAX_BYTES = env.int("EVENTS_PUSH_MAX_BYTES", default=4 * 1024**2)
EVENTS_CONNECT_TIMEOUT = env.float("EVENTS_CONNECT_TIMEOUT", default=5.0)
# How cameras reach us for pushes (e.g. http://192.168.1.10:8000); empty: the admin page's own address.
EVENTS_PUSH_BASE_URL = env.str("EVENTS_PUSH_BASE_URL", default="")

# --- Discovery (cameras app; see docs/discovery.md) -------------------------------------------
SCAN_PORTS = env.list("SCAN_PORTS", cast=int, default=[80, 443, 554, 8000, 8554, 8899, 34567, 37777])
ONVIF_TIMEOUT = env.float("ONVIF_TIMEOUT", default=5)
# Range the discover endpoint scans when the request names none; empty: the request must name one.
DEFAULT_NETWORK_RANGE = env.str("DEFAULT_NETWORK_RANGE", default="")
DISCOVERY_MAX_HOSTS = env.int("DISCOVERY_MAX_HOSTS", default=1024)
DISCOVERY_ALLOW_PUBLIC = env.bool("DISCOVERY_ALLOW_PUBLIC", default=False)
DISCOVERY_SCAN_TIMEOUT = env.int("DISCOVERY_SCAN_TIMEOUT", default=300)
DISCOVERY_HOST_TIMEOUT = env.int("DISCOVERY_HOST_TIMEOUT", default=30)
# Scan addresses that do not answer nmap's host discovery too (nmap -Pn): for routed subnets that drop ping.
DISCOVERY_SKIP_PING = env.bool("DISCOVERY_SKIP_PING", default=False)
DISCOVERY_API_WAIT = env.float("DISCOVERY_API_WAIT", default=20)
DISCOVERY_CONCURRENCY = env.int("DISCOVERY_CONCURRENCY", default=16)
# Seconds the camera page's "test connection" and snapshot wait for a camera (per protocol).
CAMERA_TEST_TIMEOUT = env.float("CAMERA_TEST_TIMEOUT", default=5)
DISCOVERY_FFPROBE_TIMEOUT = env.float("DISCOVERY_FFPROBE_TIMEOUT", default=8)
DISCOVERY_FFPROBE_CONCURRENCY = env.int("DISCOVERY_FFPROBE_CONCURRENCY", default=8)
DISCOVERY_FFPROBE_PER_DEVICE = env.int("DISCOVERY_FFPROBE_PER_DEVICE", default=2)
DISCOVERY_MAX_CHANNELS = env.int("DISCOVERY_MAX_CHANNELS", default=64)
DISCOVERY_WS_MULTICAST = env.bool("DISCOVERY_WS_MULTICAST", default=True)
DISCOVERY_WS_TIMEOUT = env.float("DISCOVERY_WS_TIMEOUT", default=2)
DISCOVERY_JOB_TIMEOUT = env.int("DISCOVERY_JOB_TIMEOUT", default=900)
CELERY_BEAT_SCHEDULE["cameras.discovery.requeue_stale"] = {
    "task": "cameras.discovery.requeue_stale",
    "schedule": 60.0,
}
ONVIF_WSDL_DIR = env.str("ONVIF_WSDL_DIR", default="")
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DiscoveryJobStatusEnum": "cameras.models.DiscoveryJob.Status",
        "DiscoveredStreamStatusEnum": "cameras.models.DiscoveredStream.Status",
        "PlateWorkStatusEnum": "plates.models.Status",
        "PlateReadSourceEnum": "plates.models.ReadSource",
        "SourceEnum": "plates.models.Source",
        "ListTypeEnum": "plates.models.ListType",
        "LaneDirectionEnum": "cameras.models.Direction",
    }
)
# Device credentials never reach a log line (runserver request lines, URLs quoted in messages).
LOGGING.setdefault("filters", {})["redact_credentials"] = {"()": "lprnvr.redaction.RedactCredentialsFilter"}
LOGGING["handlers"]["console"].setdefault("filters", []).append("redact_credentials")

# --- Media engine (recordings app, `manage.py run_media`) ------------------------------------
MEDIA_RUN_DIR = Path(env.str("MEDIA_RUN_DIR", default=str(VAR_DIR / "media")))
MEDIA_SEGMENT_SECONDS = env.int("MEDIA_SEGMENT_SECONDS", default=10)  # 10-60: recording segment length
MEDIA_HLS_SECONDS = env.int("MEDIA_HLS_SECONDS", default=1)
MEDIA_SOCKET_TIMEOUT = env.float("MEDIA_SOCKET_TIMEOUT", default=5.0)
MEDIA_STALL_TIMEOUT = env.float("MEDIA_STALL_TIMEOUT", default=20.0)
MEDIA_BACKOFF_STEPS = [float(s) for s in env.list("MEDIA_BACKOFF_STEPS", default=["1", "2", "5", "10", "30", "60"])]
MEDIA_UNSUPPORTED_AUDIO = env.str("MEDIA_UNSUPPORTED_AUDIO", default="aac")  # "aac" (transcode) or "drop"
MEDIA_POLL_INTERVAL = env.float("MEDIA_POLL_INTERVAL", default=1.0)
MEDIA_STARTS_PER_TICK = env.int("MEDIA_STARTS_PER_TICK", default=8)
MEDIA_READY_TIMEOUT = env.float("MEDIA_READY_TIMEOUT", default=20.0)
# Lifetime of a signed live HLS URL: the live page renews it before then, other players re-fetch it.
MEDIA_URL_TTL = env.int("MEDIA_URL_TTL", default=600)
MEDIA_RETENTION_INTERVAL = env.float("MEDIA_RETENTION_INTERVAL", default=60.0)  # seconds between retention passes
RECORDINGS_QUOTA_BYTES = env.int("RECORDINGS_QUOTA_BYTES", default=0)  # 0: no quota, only the free-space floor
# The recordings root must be a mount point (a disk of its own): unmounted, recording stops (/health 503).
RECORDINGS_REQUIRE_MOUNT = env.bool("RECORDINGS_REQUIRE_MOUNT", default=False)
# More than this share of indexed files missing at once is a disk fault, not deletions: no index row is dropped.
RECORDINGS_MISSING_FRACTION = env.float("RECORDINGS_MISSING_FRACTION", default=0.5)
RECORDINGS_QUARANTINE_DAYS = env.int("RECORDINGS_QUARANTINE_DAYS", default=7)  # broken segment files kept this long
# Media nodes (recordings.nodes): every `run_media` is one; cameras are spread over the live ones by capacity.
MEDIA_NODE_NAME = env.str("MEDIA_NODE_NAME", default="") or socket.gethostname()
MEDIA_NODE_MAX_CHANNELS = env.int("MEDIA_NODE_MAX_CHANNELS", default=128)
MEDIA_NODE_URL = env.str("MEDIA_NODE_URL", default="")  # where this node's files are reached (node-local disks)
# A node that does not renew its leases for this long loses its cameras to the others.
MEDIA_LEASE_SECONDS = env.float("MEDIA_LEASE_SECONDS", default=15.0)
MEDIA_PROBE_TIMEOUT = env.float("MEDIA_PROBE_TIMEOUT", default=20.0)  # ffprobe of one segment file
EXPORTS_PER_USER_CONCURRENT = env.int("EXPORTS_PER_USER_CONCURRENT", default=2)
EXPORTS_PER_USER_PER_HOUR = env.int("EXPORTS_PER_USER_PER_HOUR", default=30)
EXPORT_MAX_SECONDS = env.int("EXPORT_MAX_SECONDS", default=24 * 3600)  # longest range one export may cover
# Share of RECORDINGS_QUOTA_BYTES that footage leaves free for exports and downloads (they count in the quota).
EXPORTS_RESERVE_FRACTION = env.float("EXPORTS_RESERVE_FRACTION", default=0.05)
EXPORT_CACHE_SECONDS = env.int("EXPORT_CACHE_SECONDS", default=3600)  # an export (or download) file is kept this long

# Timeline and playback (recordings.timeline, recordings.playback).
TIMELINE_GAP_TOLERANCE = env.float("TIMELINE_GAP_TOLERANCE", default=1.5)  # seconds: shorter holes are one span
TIMELINE_MAX_DAYS = env.int("TIMELINE_MAX_DAYS", default=7)  # longest window one timeline request covers
TIMELINE_MAX_CAMERAS = env.int("TIMELINE_MAX_CAMERAS", default=64)  # cameras per multi-camera timeline
TIMELINE_MAX_MARKERS = env.int("TIMELINE_MAX_MARKERS", default=2000)  # plate reads per camera and window
PLAYBACK_HOURS = env.float("PLAYBACK_HOURS", default=2.0)  # a playback playlist covers this much from its start
# Lifetime of a signed playback URL (the playlist and its segments); ended earlier as live URLs are.
PLAYBACK_URL_TTL = env.int("PLAYBACK_URL_TTL", default=4 * 3600)

# --- Monitoring (monitoring app): service heartbeats and the Prometheus /metrics endpoint -------
from lprnvr.celery import QUEUES as _CELERY_QUEUES  # noqa: E402  (lprnvr/__init__ has loaded it already)

# The media supervisor and the event listener write their row at most this often; beat sends each
# queue's workers a heartbeat task this often.
SERVICE_HEARTBEAT_SECONDS = env.float("SERVICE_HEARTBEAT_SECONDS", default=30.0)
SERVICE_STALE_SECONDS = env.float("SERVICE_STALE_SECONDS", default=120.0)  # no beat this long: "stale"
# Seconds between the dashboard's refreshes (the admin index polls its panel).
DASHBOARD_REFRESH_SECONDS = env.int("DASHBOARD_REFRESH_SECONDS", default=3)
# Seconds the dashboard's disk figures (a sum over every segment row) are reused between refreshes.
DASHBOARD_DISK_SECONDS = env.int("DASHBOARD_DISK_SECONDS", default=30)
# Services that must be running somewhere: one that never beat is "missing" (drop "events" on a site
# with no ANPR camera, for instance). Any other service that beats is reported too.
SERVICES_EXPECTED = env.list(
    "SERVICES_EXPECTED", default=["media", "events", "beat", *(f"worker.{queue}" for queue in _CELERY_QUEUES)]
)
for _queue in _CELERY_QUEUES:
    CELERY_BEAT_SCHEDULE[f"monitoring.worker_heartbeat.{_queue}"] = {
        "task": "monitoring.worker_heartbeat",
        "schedule": SERVICE_HEARTBEAT_SECONDS,
        "args": (_queue,),
        # Nobody consuming the queue: the heartbeats expire instead of piling up for when one returns.
        "options": {"queue": _queue, "expires": SERVICE_HEARTBEAT_SECONDS},
    }
# /metrics answers a request bearing this token (Authorization: Bearer ...) or coming from one of
# these addresses or networks (as lprnvr.api.client_address sees it). Neither set: always 403.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# --- Alerts (lprnvr/alerts, docs/alerts.md): rules that notify by webhook, MQTT and email ------
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", default=8)  # then the delivery ends `failed`
ALERTS_RETRY_BASE_DELAY = env.float("ALERTS_RETRY_BASE_DELAY", default=5.0)  # doubles each attempt
ALERTS_RETRY_MAX_DELAY = env.float("ALERTS_RETRY_MAX_DELAY", default=900.0)
# Beat: deliveries (and events) whose task message was lost are queued again this often (seconds).
ALERTS_REQUEUE_INTERVAL = env.int("ALERTS_REQUEUE_INTERVAL", default=60)
ALERTS_SENDING_TIMEOUT = env.int("ALERTS_SENDING_TIMEOUT", default=300)  # `sending` this long: its worker died
ALERTS_DOWN_AFTER = env.float("ALERTS_DOWN_AFTER", default=60.0)  # a camera in backoff/down this long is "down"
ALERTS_RULES_CACHE_SECONDS = env.float("ALERTS_RULES_CACHE_SECONDS", default=5.0)  # plate kinds watched, per process
ALERTS_RETENTION_DAYS = env.int("ALERTS_RETENTION_DAYS", default=90)  # events (and their deliveries) kept
ALERTS_MQTT_KEEPALIVE = env.int("ALERTS_MQTT_KEEPALIVE", default=60)
CELERY_BEAT_SCHEDULE["alerts-requeue"] = {"task": "alerts.requeue", "schedule": float(ALERTS_REQUEUE_INTERVAL)}
# Services with no heartbeat and folders under the free-space floor are looked for this often (s).
ALERTS_SYSTEM_CHECK_INTERVAL = env.int("ALERTS_SYSTEM_CHECK_INTERVAL", default=60)
ALERTS_DISK_LOW_REPEAT = env.int("ALERTS_DISK_LOW_REPEAT", default=3600)  # one disk_low per folder this often
CELERY_BEAT_SCHEDULE["alerts-system-checks"] = {
    "task": "alerts.system_checks",
    "schedule": float(ALERTS_SYSTEM_CHECK_INTERVAL),
}
# Outgoing mail (email targets): EMAIL_URL as smtp://user:password@host:25, smtp+tls://...:587 or
# smtp+ssl://...:465 (django-environ); the password may be URL-quoted.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="lprnvr@localhost")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "EventKindEnum": "lprnvr.alerts.models.EventKind",
        "DeliveryStatusEnum": "lprnvr.alerts.models.DeliveryStatus",
        "TargetKindEnum": "lprnvr.alerts.models.Target.Kind",
    }
)
