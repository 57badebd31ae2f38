"""Configuration read from the environment, with overrides from the app factory."""
import os
from datetime import timedelta

from flask import current_app

from server.json_provider import dumps_column, loads_column


class ConfigError(RuntimeError):
    """A setting is missing or invalid; start-up stops."""


def _number(name, default, kind):
    """Read a numeric setting of the given kind (int or float), failing fast on a bad value."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from exc


def _int(name, default):
    """Read an integer setting."""
    return _number(name, default, int)


def _float(name, default):
    """Read a decimal setting."""
    return _number(name, default, float)


def _flag(name):
    """Read an on/off setting: 1, true or yes (any case) is on."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _origins(name):
    """Read a comma-separated list of origins; empty means none."""
    return [origin.strip() for origin in os.environ.get(name, "").split(",") if origin.strip()]


def _default_database_url(instance_path):
    """A SQLite file under instance/ for development and the demo."""
    return "sqlite:///" + os.path.join(instance_path, "backtrack.sqlite3")


API_DESCRIPTION = (
    "Patient-reported outcomes after back-pain treatment. A patient's enrolled device posts "
    "check-ins and adverse events exactly once (retries answer the stored result); clinicians "
    "and admins sign in for a bearer token and read trends, worklists and cohort outcomes. "
    "Every operation says who may call it (`x-roles`: patient, clinician, admin, or anyone) "
    "and lists every status it answers; every error has the `Error` shape."
)


def from_environment(instance_path):
    """Build the settings mapping from environment variables."""
    env = os.environ.get("BACKTRACK_ENV", "development")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or _default_database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "json_serializer": dumps_column,
            "json_deserializer": loads_column,
        },
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # The clinician pages' cookie carries a staff token; CSRF is checked on their forms only.
        "SESSION_COOKIE_NAME": "backtrack_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env != "development",
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "STAFF_TOKEN_IDLE": timedelta(minutes=_int("STAFF_TOKEN_IDLE_MINUTES", 30)),
        "STAFF_TOKEN_ABSOLUTE": timedelta(hours=_int("STAFF_TOKEN_ABSOLUTE_HOURS", 12)),
        "DEVICE_TOKEN_LIFETIME": timedelta(days=_int("DEVICE_TOKEN_DAYS", 180)),
        "ENROLLMENT_CODE_LIFETIME": timedelta(hours=_int("ENROLLMENT_CODE_HOURS", 72)),
        "LOGIN_FAILURE_LIMIT": os.environ.get(
            "LOGIN_FAILURE_LIMIT", "5 per minute;20 per hour"
        ),
        "ENROLL_FAILURE_LIMIT": os.environ.get("ENROLL_FAILURE_LIMIT", "10 per minute"),
        "CHECKIN_RATE_LIMIT": os.environ.get("CHECKIN_RATE_LIMIT", "300 per minute"),
        # Per client address, over the probes, the document, its viewer and FHIR metadata.
        "PUBLIC_RATE_LIMIT": os.environ.get("PUBLIC_RATE_LIMIT", "600 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "backtrack"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: count in the process's memory meanwhile rather than answer 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "CORS_ORIGINS": _origins("CORS_ORIGINS"),
        # Production refuses each unsafe choice below unless its own setting allows it.
        "ALLOW_DEBUG": _flag("ALLOW_DEBUG"),
        "ALLOW_WEAK_SECRET_KEY": _flag("ALLOW_WEAK_SECRET_KEY"),
        "ALLOW_SQLITE": _flag("ALLOW_SQLITE"),
        "ALLOW_MEMORY_RATE_LIMITS": _flag("ALLOW_MEMORY_RATE_LIMITS"),
        # Policy (clinical.md): ODI scored with at most this many sections missing.
        "ODI_MAX_MISSING_SECTIONS": _int("ODI_MAX_MISSING_SECTIONS", 1),
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        # Reminders: channels, delivery retries and the link a message carries.
        "REMINDER_DEFAULT_CHANNEL": os.environ.get("REMINDER_DEFAULT_CHANNEL", "log"),
        "APP_LINK_BASE": os.environ.get("APP_LINK_BASE", "backtrack://app"),
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "") in ("1", "true", "yes"),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_FROM": os.environ.get("SMTP_FROM", "Backtrack <reminders@localhost>"),
        "SMTP_TIMEOUT_SECONDS": _int("SMTP_TIMEOUT_SECONDS", 10),
        "SMTP_CA_FILE": os.environ.get("SMTP_CA_FILE") or None,
        "PUSH_GATEWAY_URL": os.environ.get("PUSH_GATEWAY_URL") or None,
        "PUSH_GATEWAY_SECRET": os.environ.get("PUSH_GATEWAY_SECRET") or None,
        "WEBHOOK_TIMEOUT_SECONDS": _float("WEBHOOK_TIMEOUT_SECONDS", 5.0),
        "DELIVERY_MAX_ATTEMPTS": _int("DELIVERY_MAX_ATTEMPTS", 5),
        "DELIVERY_BACKOFF_SECONDS": _int("DELIVERY_BACKOFF_SECONDS", 60),
        "DELIVERY_BACKOFF_MAX_SECONDS": _int("DELIVERY_BACKOFF_MAX_SECONDS", 6 * 3600),
        "DELIVERY_LEASE_SECONDS": _int("DELIVERY_LEASE_SECONDS", 300),
        "DELIVERY_BATCH_SIZE": _int("DELIVERY_BATCH_SIZE", 500),
        # Policy: staff see a missed time point as a flag for this many days after it closed.
        "OVERDUE_FLAG_DAYS": _int("OVERDUE_FLAG_DAYS", 30),
        # FHIR export: the base of the project's own canonical URLs, code systems and fullUrls.
        "FHIR_BASE_URL": os.environ.get("FHIR_BASE_URL", "https://backtrack.example/fhir"),
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 65536),
        "API_TITLE": "Backtrack",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": API_DESCRIPTION,
                "license": {"name": "MIT", "identifier": "MIT"},
                "contact": {
                    "name": os.environ.get("API_CONTACT_NAME", "Backtrack"),
                    "url": os.environ.get("API_CONTACT_URL", "https://backtrack.example/support"),
                },
            },
            "servers": [{"url": "/", "description": "The server that serves this document"}],
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
            },
            "security": [{"bearerAuth": []}],
        },
    }


def setting(name):
    """One setting of the current app: the one way settings reach services and jobs."""
    return current_app.config[name]


def _development_secret(instance_path):
    """A secret kept in instance/, so every worker process signs session cookies alike."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        draft = f"{path}.{os.getpid()}"
        with open(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(os.urandom(32).hex())
        try:
            os.link(draft, path)  # atomic: of workers starting together, one secret wins
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    with open(path, encoding="ascii") as file:
        return file.read().strip()


MIN_SECRET_KEY_LENGTH = 32


def _production_refusals(config):
    """What production refuses, each with the setting that allows it anyway."""
    secret = config.get("SECRET_KEY") or ""
    return (
        (bool(config.get("DEBUG")), "ALLOW_DEBUG", "debug mode (FLASK_DEBUG) is on"),
        (
            len(secret) < MIN_SECRET_KEY_LENGTH,
            "ALLOW_WEAK_SECRET_KEY",
            f"SECRET_KEY is missing or shorter than {MIN_SECRET_KEY_LENGTH} characters",
        ),
        (
            config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"),
            "ALLOW_SQLITE",
            "DATABASE_URL is SQLite, not PostgreSQL",
        ),
        (
            config["RATELIMIT_STORAGE_URI"].startswith("memory://"),
            "ALLOW_MEMORY_RATE_LIMITS",
            "RATELIMIT_STORAGE_URI is memory://: each worker process would count on its own",
        ),
    )


def validate_production(config):
    """Refuse to start production with an unsafe setting its own ALLOW_ setting does not allow."""
    refused = [
        f"{problem} (set {allowance}=1 to allow it)"
        for unsafe, allowance, problem in _production_refusals(config)
        if unsafe and not config.get(allowance)
    ]
    if refused:
        raise ConfigError("refusing to start in production: " + "; ".join(refused))


def validate(config, instance_path):
    """Stop start-up on settings that would be unsafe or meaningless."""
    if config["ENV_NAME"] == "production":
        validate_production(config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _development_secret(instance_path)
    for key in ("STAFF_TOKEN_IDLE", "STAFF_TOKEN_ABSOLUTE", "DEVICE_TOKEN_LIFETIME"):
        if config[key] <= timedelta(0):
            raise ConfigError(f"{key} must be positive")
    if config["REMINDER_DEFAULT_CHANNEL"] not in ("log", "smtp", "webhook"):
        raise ConfigError("REMINDER_DEFAULT_CHANNEL must be log, smtp or webhook")
    if config["PUSH_GATEWAY_URL"] and not config["PUSH_GATEWAY_SECRET"]:
        raise ConfigError("PUSH_GATEWAY_SECRET must be set to sign requests to PUSH_GATEWAY_URL")
    if not config["FHIR_BASE_URL"].startswith(("https://", "http://")):
        raise ConfigError("FHIR_BASE_URL must be an absolute http(s) URL")
    config["FHIR_BASE_URL"] = config["FHIR_BASE_URL"].rstrip("/")
    if config["WEBHOOK_TIMEOUT_SECONDS"] <= 0 or config["DELIVERY_MAX_ATTEMPTS"] < 1:
        raise ConfigError("WEBHOOK_TIMEOUT_SECONDS and DELIVERY_MAX_ATTEMPTS must be positive")
