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
