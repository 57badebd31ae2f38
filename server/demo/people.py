"""Who is in the demo clinic: its staff, and fictional patients with their first treatment."""
import random
from typing import NamedTuple

DEMO_ORGANIZATION = "Backtrack Demo Clinic"
DEMO_TIMEZONE = "Europe/Berlin"
# Published on purpose: the demo refuses to run in production.
DEMO_STAFF = (
    ("admin@demo.backtrack.test", "demo-admin-pass", "admin", "Ada Admin"),
    ("clinician@demo.backtrack.test", "demo-clinician-pass", "clinician", "Chris Clinician"),
)
# The demo clinician's colleagues, so that patients are spread over care teams. They get
# random passwords: nobody signs in as them.
DEMO_COLLEAGUES = (
    ("a.okonkwo@demo.backtrack.test", "Amara Okonkwo"),
    ("j.lindqvist@demo.backtrack.test", "Johan Lindqvist"),
    ("p.iyer@demo.backtrack.test", "Priya Iyer"),
    ("m.kowalczyk@demo.backtrack.test", "Marek Kowalczyk"),
    ("s.haddad@demo.backtrack.test", "Samira Haddad"),
)
SEED = 20240501

# Everyone's first treatment, (kind, cell source): how many patients had it. Cell therapy is
# what the product is for, so it has the most patients and every cell source.
FIRST_TREATMENTS = {
    ("cell_therapy", "bone_marrow"): 36,
    ("cell_therapy", "adipose"): 24,
    ("cell_therapy", "umbilical"): 15,
    ("cell_therapy", "allogeneic_other"): 15,
    ("prp", None): 45,
    ("epidural_steroid", None): 45,
    ("physical_therapy", None): 45,
    ("medication", None): 25,
    ("surgery", None): 35,
    ("other", None): 15,
}
PATIENT_COUNT = sum(FIRST_TREATMENTS.values())

# Causes seen before each kind of treatment; a cause listed twice is twice as likely.
CONDITIONS_BY_KIND = {
    "cell_therapy": ("degenerative_disc_disease",) * 4
    + ("osteoarthritis", "age_related", "herniated_disc"),
    "prp": ("degenerative_disc_disease",) * 2
    + ("osteoarthritis", "muscle_ligament_strain", "injury_trauma"),
    "epidural_steroid": ("herniated_disc",) * 3
    + ("spinal_stenosis",) * 2
    + ("degenerative_disc_disease",),
    "medication": (
        "muscle_ligament_strain",
        "poor_posture",
        "fibromyalgia",
        "lifestyle",
        "obesity",
        "unknown",
    ),
    "physical_therapy": ("muscle_ligament_strain",) * 2
    + ("poor_posture", "scoliosis", "lifestyle", "obesity", "age_related", "unknown"),
    "surgery": ("herniated_disc",) * 3 + ("spinal_stenosis",) * 2 + ("scoliosis", "injury_trauma"),
    "other": (
        "unknown",
        "osteoarthritis",
        "fibromyalgia",
        "age_related",
        "degenerative_disc_disease",
    ),
}
TIMEZONES = ("Europe/Berlin",) * 12 + (
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "Europe/Istanbul",
    "America/New_York",
)

# Given names (female, male) and family names that go together, from several cultures; the
# patients are fictional, any likeness to a real person is chance. Weights: a Berlin clinic.
# An underscore joins a two-word family name.
NAMES = (
    (
        6,
        "Anna Lena Katharina Sabine Petra Julia Ursula Monika Heike Greta",
        "Jonas Lukas Thomas Stefan Michael Jürgen Klaus Matthias Florian Dieter",
        "Becker Schulz Fischer Weber Hoffmann Koch Richter Wolf Klein Braun Schröder Neumann"
        " Zimmermann Krüger Hartmann Lange",
    ),
    (
        2,
        "Ayşe Elif Zeynep Fatma Emine Derya",
        "Mehmet Mustafa Emre Burak Can Serkan",
        "Yılmaz Kaya Demir Şahin Çelik Öztürk Aydın Arslan",
    ),
    (
        1,
        "Giulia Francesca Chiara Sofia Valentina",
        "Luca Marco Giovanni Matteo Alessandro",
        "Rossi Bianchi Romano Esposito Ricci Marino Greco Conti",
    ),
    (
        1,
        "Agnieszka Katarzyna Magdalena Zofia Ewa",
        "Piotr Tomasz Krzysztof Paweł Marek",
        "Nowak Wójcik Kowalczyk Mazur Krawczyk Zając Król Wieczorek",
    ),
    (
        1,
        "Carmen Lucía Elena Marta Pilar",
        "Javier Carlos Alejandro Diego Manuel",
        "García Fernández López Martínez Sánchez Romero Navarro Torres",
    ),
    (
        1,
        "Beatriz Inês Mariana Catarina",
        "João Tiago Rui Pedro",
        "Silva Santos Ferreira Pereira Costa Oliveira",
    ),
    (
        1,
        "Fatima Layla Amira Nour Yasmin Rania",
        "Omar Karim Youssef Ahmad Tariq Khaled",
        "Haddad Khalil Nasser Saleh Mansour Hamdan Aziz",
    ),
    (
        1,
        "Chiamaka Ngozi Adaeze Folake Amaka",
        "Chinedu Oluwaseun Emeka Babajide Tunde",
        "Okafor Adeyemi Okonkwo Eze Balogun Nwosu",
    ),
    (
        1,
        "Priya Ananya Lakshmi Deepa Kavya",
        "Arjun Rahul Vikram Sanjay Rohan",
        "Sharma Patel Iyer Reddy Nair Gupta Menon",
    ),
    (1, "Mei Xiuying Lina Yan", "Wei Jun Hao Zhiqiang", "Wang Li Zhang Chen Liu Huang Zhao"),
    (1, "Linh Thu Hoa Mai", "Minh Tuan Duc Khang", "Nguyen Tran Le Pham Hoang Vu"),
    (1, "Yuki Haruka Aiko Emi", "Hiroshi Kenji Takumi Daiki", "Sato Suzuki Takahashi Ito Yamamoto"),
    (
        1,
        "Ingrid Astrid Sigrid Freja Maja",
        "Lars Erik Magnus Nils Anders",
        "Johansson Lindqvist Andersen Nilsson Berg Hansen",
    ),
    (
        1,
        "Siobhán Aoife Emily Charlotte Niamh",
        "Liam Declan James Oliver Seán",
        "Murphy O'Brien Kelly Walsh Smith Taylor Brennan",
    ),
    (
        1,
        "Sanne Femke Anouk Lotte",
        "Daan Bram Joost Sven",
        "de_Vries van_Dijk Jansen Bakker Visser",
    ),
    (1, "Ivana Marija Ana Petra", "Ivan Luka Marko Tomislav", "Horvat Kovačević Babić Marić Jurić"),
    (1, "Shirin Parisa Maryam Leila", "Reza Dariush Amir Babak", "Ahmadi Hosseini Karimi Moradi"),
)
class DemoPatient(NamedTuple):
    """A demo patient's fixed facts; what happens after the treatment is their Course."""

    external_id: str
    name: str
    birth_year: int
    sex: str
    condition: str
    timezone: str
    kind: str
    cell_source: str | None
    care_team: tuple[int, ...]  # places in the clinic's clinicians, the first is the main one


def _name(rng, sex, taken):
    """A full name not used yet, from one culture; "other" and "unknown" take either list."""
    weights = [weight for weight, *_ in NAMES]
    while True:
        _, female, male, family = rng.choices(NAMES, weights)[0]
        given = {"female": female, "male": male}.get(sex) or rng.choice((female, male))
        name = f"{rng.choice(given.split())} {rng.choice(family.split()).replace('_', ' ')}"
        if name not in taken:
            taken.add(name)
            return name


def _care_team(rng, clinicians):
    """The demo clinician (0) leads about a third of the teams; some teams have two members."""
    lead = 0 if rng.random() < 0.36 else rng.randrange(1, clinicians)
    if rng.random() < 0.3:
        return (lead, rng.choice([n for n in range(clinicians) if n != lead]))
    return (lead,)


def _demo_patients(rng):
    firsts = [first for first, count in FIRST_TREATMENTS.items() for _ in range(count)]
    rng.shuffle(firsts)
    taken, rows = set(), []
    for n, (kind, source) in enumerate(firsts, start=1):
        sex = rng.choices(("female", "male", "other", "unknown"), (49, 48, 2, 1))[0]
        rows.append(
            DemoPatient(
                external_id=f"DEMO-{n:03d}",
                name=_name(rng, sex, taken),
                birth_year=rng.randint(1942, 1998),
                sex=sex,
                condition=rng.choice(CONDITIONS_BY_KIND[kind]),
                timezone=rng.choice(TIMEZONES),
                kind=kind,
                cell_source=source,
                care_team=_care_team(rng, 1 + len(DEMO_COLLEAGUES)),
            )
        )
    return tuple(rows)


DEMO_PATIENTS = _demo_patients(random.Random(SEED))
