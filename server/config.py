"""Configuration read from the environment, with overrides from the app factory."""
import os
from datetime import timedelta


class ConfigError(RuntimeError):
    """A setting is missing or invalid; start-up stops."""


def _int(name, default):
    """Read an integer setting, failing fast on a bad value."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _default_database_url(instance_path):
    """A SQLite file under instance/ for development and the demo."""
    return "sqlite:///" + os.path.join(instance_path, "backtrack.sqlite3")


def from_environment(instance_path):
    """Build the settings mapping from environment variables."""
    env = os.environ.get("BACKTRACK_ENV", "development")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or _default_database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "STAFF_TOKEN_IDLE": timedelta(minutes=_int("STAFF_TOKEN_IDLE_MINUTES", 30)),
        "STAFF_TOKEN_ABSOLUTE": timedelta(hours=_int("STAFF_TOKEN_ABSOLUTE_HOURS", 12)),
        "DEVICE_TOKEN_LIFETIME": timedelta(days=_int("DEVICE_TOKEN_DAYS", 180)),
        "ENROLLMENT_CODE_LIFETIME": timedelta(hours=_int("ENROLLMENT_CODE_HOURS", 72)),
        "LOGIN_FAILURE_LIMIT": os.environ.get(
            "LOGIN_FAILURE_LIMIT", "5 per minute;20 per hour"
        ),
        "ENROLL_FAILURE_LIMIT": os.environ.get("ENROLL_FAILURE_LIMIT", "10 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Policy (clinical.md): ODI scored with at most this many sections missing.
        "ODI_MAX_MISSING_SECTIONS": _int("ODI_MAX_MISSING_SECTIONS", 1),
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_KIB": _int("PASSWORD_HASH_MEMORY_KIB", 65536),
        "API_TITLE": "Backtrack",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    }


def validate(config):
    """Stop start-up on settings that would be unsafe or meaningless."""
    if not config.get("SECRET_KEY"):
        if config["ENV_NAME"] == "production":
            raise ConfigError("SECRET_KEY must be set in production")
        config["SECRET_KEY"] = os.urandom(32).hex()
    if config["ENV_NAME"] == "production" and config["SQLALCHEMY_DATABASE_URI"].startswith(
        "sqlite"
    ):
        raise ConfigError("DATABASE_URL must point at PostgreSQL in production")
    for key in ("STAFF_TOKEN_IDLE", "STAFF_TOKEN_ABSOLUTE", "DEVICE_TOKEN_LIFETIME"):
        if config[key] <= timedelta(0):
            raise ConfigError(f"{key} must be positive")
