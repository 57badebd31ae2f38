"""Staff accounts: the admin manages the clinicians of their organization."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.errors import Conflict
from server.extensions import db
from server.models import Organization, User
from server.services.passwords import hash_password


def create_user(organization, email, password, role, name=""):
    """Create a staff user; a taken email is a Conflict."""
    user = User(
        organization=organization,
        email=email.strip().lower(),
        name=name,
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "A user with this email already exists.", {"json": {"email": ["Already in use."]}}
        ) from exc
    return user


def organization_named(name, timezone="UTC"):
    """The organization with this name, created when missing."""
    organization = db.session.scalar(select(Organization).where(Organization.name == name))
    if organization is None:
        organization = Organization(name=name, timezone=timezone)
        db.session.add(organization)
        db.session.flush()
    return organization


def list_staff(principal):
    """The staff of the caller's organization."""
    return db.session.scalars(
        select(User).where(User.organization_id == principal.organization_id).order_by(User.id)
    ).all()
