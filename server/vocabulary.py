"""Controlled vocabularies shared by schemas, services and exports."""

# Causes of back pain, after ../shared/reference/clinical.md.
CONDITIONS = (
    "muscle_ligament_strain",
    "poor_posture",
    "injury_trauma",
    "osteoarthritis",
    "spinal_stenosis",
    "degenerative_disc_disease",
    "herniated_disc",
    "scoliosis",
    "kidney_stones",
    "infection",
    "fibromyalgia",
    "obesity",
    "lifestyle",
    "age_related",
    "unknown",
)

SEXES = ("female", "male", "other", "unknown")

TREATMENT_KINDS = (
    "cell_therapy",
    "prp",
    "epidural_steroid",
    "medication",
    "physical_therapy",
    "surgery",
    "other",
)

CELL_SOURCES = ("bone_marrow", "adipose", "umbilical", "allogeneic_other")

ADVERSE_EVENT_SEVERITIES = ("mild", "moderate", "severe", "life_threatening")

# A severe or life-threatening adverse event flags the patient for staff.
FLAGGING_SEVERITIES = ("severe", "life_threatening")

# Words for the keys above that are not just the key with spaces (cell_therapy: Cell therapy).
DISPLAY_NAMES = {
    "prp": "PRP",
    "odi": "ODI",
    "nrs_pain": "NRS pain",
    "rmdq": "RMDQ",
    "pgic": "PGIC",
    "psfs": "PSFS",
    "vas_pain": "VAS pain",
}

# Worklist flags staff can filter patients by.
PATIENT_FLAGS = ("adverse_event", "worsening", "improving", "overdue")
