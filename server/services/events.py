"""Domain events: other services react to stored data inside the same transaction.

Each signal is sent before the commit, so whatever a receiver adds to the
session commits, or rolls back, together with the change that caused it.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the Patient; checkins: the CheckIn rows newly stored; completed (when given): the
# follow-ups whose assessments the storing statement already completed (the single post on
# PostgreSQL does so in its one statement).
checkins_stored = _signals.signal("checkins-stored")
# sender: the Patient; checkin: the CheckIn just voided.
checkin_voided = _signals.signal("checkin-voided")
# sender: the Treatment; created: bool; changed: set of field names.
treatment_saved = _signals.signal("treatment-saved")
# sender: the Patient; changed: set of field names; principal: who changed it.
patient_changed = _signals.signal("patient-changed")


def connect_receivers():
    """Connect every receiver of the domain events: the one place they are registered."""
    from server.services import enrollment, schedules, trends

    treatment_saved.connect(schedules.on_treatment_saved)
    treatment_saved.connect(trends.on_treatment_saved)
    checkins_stored.connect(schedules.on_checkins_stored)
    checkin_voided.connect(schedules.on_checkin_voided)
    patient_changed.connect(schedules.on_patient_changed)
    patient_changed.connect(trends.on_patient_changed)
    patient_changed.connect(enrollment.on_patient_changed)
