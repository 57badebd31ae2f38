"""The database models, one module per domain."""
from server.models.accounts import Organization, Patient, User, care_team
from server.models.audit import AuditEvent
from server.models.auth import AccessToken, EnrollmentCode

__all__ = [
    "AccessToken",
    "AuditEvent",
    "EnrollmentCode",
    "Organization",
    "Patient",
    "User",
    "care_team",
]
