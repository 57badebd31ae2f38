"""Operator commands: staff accounts and the demo data."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError, validate

from server.errors import DomainError
from server.extensions import db
from server.models.accounts import STAFF_ROLES
from server.services import staff

users = AppGroup("users", help="Manage staff accounts.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option("--organization", "organization_name", required=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone for a new organization.")
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from stdin.")
def create_user_command(email, role, organization_name, timezone, name, password_stdin):
    """Create a staff user, and the organization when missing."""
    from schemas.common import VALID_TIMEZONES

    try:
        validate.Email()(email)
    except ValidationError as exc:
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL") from exc
    if timezone not in VALID_TIMEZONES:
        raise click.BadParameter(f"{timezone!r} is not an IANA time zone", param_hint="--timezone")
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise click.BadParameter("the password needs at least 12 characters")
    organization = staff.organization_named(organization_name, timezone)
    try:
        user = staff.create_user(organization, email, password, role, name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"created {role} {user.email} (id {user.id}) in {organization.name}")


@click.command("demo")
@with_appcontext
def demo_command():
    """Seed a demo organization with staff and patients; prints the sign-in details."""
    from server.demo import seed_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("the demo data is not for production databases")
    for line in seed_demo():
        click.echo(line)
