"""Who is in the demo clinic: its staff, and the patients with their profiles."""
import random

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
PATIENT_COUNT = 40

CONDITIONS = (
    "degenerative_disc_disease herniated_disc spinal_stenosis muscle_ligament_strain osteoarthritis"
    " injury_trauma age_related unknown"
).split()
TIMEZONES = ("Europe/Berlin",) * 6 + ("Europe/London", "Europe/Vienna", "America/New_York")

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
    """The demo patients: (external id, name, birth year, sex, condition, time zone, care team),
    the care team as places in the clinic's clinicians, the first the main one."""
    taken, rows = set(), []
    for n in range(1, PATIENT_COUNT + 1):
        sex = ("female", "male")[n % 2] if n % 13 else "other"
        rows.append(
            (
                f"DEMO-{n:03d}",
                _name(rng, sex, taken),
                rng.randint(1945, 1995),
                sex,
                CONDITIONS[n % len(CONDITIONS)],
                TIMEZONES[n % len(TIMEZONES)],
                _care_team(rng, 1 + len(DEMO_COLLEAGUES)),
            )
        )
    return tuple(rows)


DEMO_PATIENTS = _demo_patients(random.Random(SEED))
