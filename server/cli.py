"""Operator commands: staff accounts, organizations' export choices and the demo data."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError, validate
from sqlalchemy import select

from server.errors import DomainError
from server.extensions import db
from server.models import Organization
from server.models.accounts import STAFF_ROLES
from server.services import fhir, staff

users = AppGroup("users", help="Manage staff accounts.")
organizations = AppGroup("organizations", help="Manage organizations.")


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


@organizations.command("fhir")
@click.argument("name")
@click.option("--names/--no-names", default=None, help="Name patients in the FHIR export.")
@click.option(
    "--pseudonym-system",
    help="URI of the system the external ids belong to (http(s):// or urn:); '' for the default.",
)
def organization_fhir_command(name, names, pseudonym_system):
    """Show, or change, how the FHIR export identifies the organization's patients."""
    organization = db.session.scalar(select(Organization).where(Organization.name == name))
    if organization is None:
        raise click.BadParameter(f"no organization named {name!r}", param_hint="NAME")
    try:
        fhir.configure_organization(organization, names, pseudonym_system)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--pseudonym-system") from exc
    db.session.commit()
    context = fhir.export_context(organization)
    click.echo(
        f"{organization.name}: names {'on' if context.include_names else 'off'}, "
        f"pseudonym system {context.pseudonym_system}"
    )


@click.command("demo")
@with_appcontext
def demo_command():
    """Seed a demo organization with staff and patients; prints the sign-in details."""
    from server.demo import seed_demo

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("the demo data is not for production databases")
    for line in seed_demo():
        click.echo(line)
