"""Who is in the demo clinic: its staff, and the patients with their profiles."""
import random

DEMO_ORGANIZATION = "Backtrack Demo Clinic"
DEMO_TIMEZONE = "Europe/Berlin"
# Published on purpose: the demo refuses to run in production.
DEMO_STAFF = (
    ("admin@demo.backtrack.test", "demo-admin-pass", "admin", "Ada Admin"),
    ("clinician@demo.backtrack.test", "demo-clinician-pass", "clinician", "Chris Clinician"),
)
SEED = 20240501
PATIENT_COUNT = 40

FIRST_NAMES = (
    "Alex Sam Robin Jo Kim Maria Jonas Lena Mehmet Sofia Paul Anna Luca Emma Noah Mia Ben Hannah"
    " Elias Clara"
).split()
LAST_NAMES = (
    "Example Sample Test Placeholder Mock Becker Schulz Novak Yilmaz Rossi Fischer Weber Hoffmann"
    " Koch Richter Wolf Klein Braun"
).split()
CONDITIONS = (
    "degenerative_disc_disease herniated_disc spinal_stenosis muscle_ligament_strain osteoarthritis"
    " injury_trauma age_related unknown"
).split()
TIMEZONES = ("Europe/Berlin",) * 6 + ("Europe/London", "Europe/Vienna", "America/New_York")


def _demo_patients(rng):
    """The demo patients: (external id, name, birth year, sex, condition, time zone)."""
    return tuple(
        (
            f"DEMO-{n:03d}",
            f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}",
            rng.randint(1945, 1995),
            ("female", "male")[n % 2] if n % 13 else "other",
            CONDITIONS[n % len(CONDITIONS)],
            TIMEZONES[n % len(TIMEZONES)],
        )
        for n in range(1, PATIENT_COUNT + 1)
    )


DEMO_PATIENTS = _demo_patients(random.Random(SEED))
