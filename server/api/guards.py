"""Who is calling: the bearer token of the request, and the decorators that require one."""
from functools import wraps

from flask import g, request

from server.errors import Forbidden, Unauthorized
from server.extensions import client_ip
from server.services import auth


def _token_from_header():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_principal():
    """The principal behind the request's bearer token (None if none is live), once per request."""
    if "principal" not in g:
        plaintext = _token_from_header()
        g.principal = auth.authenticate(plaintext, client_ip()) if plaintext else None
    return g.principal


def _require(check):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized("Sign in first: a valid bearer token is required.")
            if not check(principal):
                raise Forbidden("Your role cannot use this endpoint.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


signed_in = _require(lambda principal: True)
staff_only = _require(lambda principal: principal.is_staff)
admin_only = _require(lambda principal: principal.role == "admin")
patient_only = _require(lambda principal: principal.role == "patient")
