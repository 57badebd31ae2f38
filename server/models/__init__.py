"""The database models, one module per domain."""
from server.models.accounts import Organization, Patient, User, care_team
from server.models.audit import AuditEvent
from server.models.auth import AccessToken, EnrollmentCode
from server.models.records import AdverseEvent, CheckIn, Treatment

__all__ = [
    "AccessToken",
    "AdverseEvent",
    "CheckIn",
    "AuditEvent",
    "EnrollmentCode",
    "Organization",
    "Patient",
    "Treatment",
    "User",
    "care_team",
]
