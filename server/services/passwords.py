"""Password hashing with Argon2id."""
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.config import setting


@cache
def _hasher_with(time_cost, memory_cost):
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def _hasher():
    return _hasher_with(setting("PASSWORD_HASH_TIME_COST"), setting("PASSWORD_HASH_MEMORY_KIB"))


@cache
def _dummy_hash(hasher):
    """A hash to verify against when the account does not exist, computed once per cost."""
    return hasher.hash("dummy")


def hash_password(password):
    """An Argon2id hash of the password."""
    return _hasher().hash(password)


def needs_rehash(password_hash):
    """True when the hash was made with other Argon2 parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


def verify_password(password_hash, password):
    """True when the password matches; a missing hash still costs one verification."""
    hasher = _hasher()
    try:
        if password_hash is None:
            hasher.verify(_dummy_hash(hasher), password)
            return False
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
