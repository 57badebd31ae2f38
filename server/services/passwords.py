"""Password hashing with Argon2id."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher():
    config = current_app.config
    return PasswordHasher(
        time_cost=config["PASSWORD_HASH_TIME_COST"],
        memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
    )


def hash_password(password):
    """An Argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash, password):
    """True when the password matches; a missing hash still costs one verification."""
    hasher = _hasher()
    if password_hash is None:
        password_hash = current_app.extensions.setdefault("dummy_hash", hasher.hash("dummy"))
        hasher.verify(password_hash, "dummy")
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
