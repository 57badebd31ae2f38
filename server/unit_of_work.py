"""One unit of work per request: committed once after the view succeeds, rolled back on error.

Views and services only add to the session; this module, the HTTP layer's, ends it.
Jobs and CLI commands own their transactions and commit explicitly.
"""
import logging

from flask import current_app, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from server.errors import database_unavailable, respond, unavailable_response
from server.extensions import db
from server.services import audit

log = logging.getLogger(__name__)


def abandon(kept_audit=()):
    """Roll the request's work back, then store the audit events it keeps in their own transaction.

    A database that cannot take them now loses them, logged: the error response still goes out.
    """
    db.session.rollback()
    if kept_audit:
        try:
            audit.insert_events(kept_audit)
            db.session.commit()
        except SQLAlchemyError as exc:
            if not database_unavailable(exc):
                raise
            db.session.rollback()
            log.error("audit events lost, database unavailable: %s %s", kept_audit, exc)


def _error_response(status, message):
    return current_app.make_response(respond(status, message))


def finish(response):
    """Commit the request's work before a success is sent; an error response stores nothing."""
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        log.warning("commit conflict on %s %s: %s", request.method, request.path, exc.orig)
        return _error_response(409, "The request conflicts with existing data.")
    except SQLAlchemyError as exc:
        db.session.rollback()
        if database_unavailable(exc):
            log.warning("commit failed on %s %s: %s", request.method, request.path, exc)
            return current_app.make_response(unavailable_response())
        log.exception("commit failed on %s %s", request.method, request.path)
        return _error_response(500, "The request could not be stored. Try again.")
    return response


def register(app):
    """End every request's unit of work."""
    app.after_request(finish)
