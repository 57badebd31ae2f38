"""The clinic session: a staff token in the signed session cookie, and the pages' guard."""
from functools import wraps
from urllib.parse import urlsplit

from flask import g, redirect, request, session, url_for

from server.extensions import client_ip
from server.services import auth


def clinic_principal():
    """The staff member whose session cookie carries a live token, or None."""
    if "principal" not in g:
        token = session.get("token")
        principal = auth.authenticate(token, client_ip()) if token else None
        g.principal = principal if principal is not None and principal.is_staff else None
    return g.principal


def signed_in_page(view):
    """Send a signed-out visitor to the sign-in form, and back here after it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if clinic_principal() is None:
            return redirect(url_for("clinic.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target):
    """A page under /clinic to return to after signing in; anything else goes to the worklist."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/clinic"):
        return url_for("clinic.worklist_page")
    return target
