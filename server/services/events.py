"""Domain events: other services react to stored data inside the same transaction.

Each signal is sent before the commit, so whatever a receiver adds to the
session commits, or rolls back, together with the change that caused it.
"""
from blinker import Namespace

_signals = Namespace()

# sender: the Patient; checkins: the CheckIn rows newly stored.
checkins_stored = _signals.signal("checkins-stored")
# sender: the Patient; checkin: the CheckIn just voided.
checkin_voided = _signals.signal("checkin-voided")
# sender: the Treatment; created: bool; changed: set of field names.
treatment_saved = _signals.signal("treatment-saved")
# sender: the Patient; changed: set of field names.
patient_changed = _signals.signal("patient-changed")
