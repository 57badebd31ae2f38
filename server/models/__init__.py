"""The database models, one module per domain."""
from server.models.accounts import Organization, Patient, User, care_team
from server.models.audit import AuditEvent
from server.models.auth import AccessToken, EnrollmentCode
from server.models.care import AdverseEvent, CheckIn, Treatment
from server.models.schedules import Assessment, FollowUp, Notification, NotificationEvent
from server.models.trends import Trend, TrendState

__all__ = [
    "AccessToken",
    "AdverseEvent",
    "Assessment",
    "CheckIn",
    "AuditEvent",
    "EnrollmentCode",
    "FollowUp",
    "Notification",
    "NotificationEvent",
    "Organization",
    "Patient",
    "Treatment",
    "Trend",
    "TrendState",
    "User",
    "care_team",
]
