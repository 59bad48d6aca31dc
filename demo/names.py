"""Plausible US business names and the people who answer their phones.

Names are combined from word lists per industry so hundreds of customers read like a real
book of business (dental groups, law firms, builders, labs) without two sharing a name.
Contact details use reserved fictional ranges only: ``555-01xx`` phone numbers and
``*.example.com`` mail domains, so a demo can never reach a real person."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PLACES = (
    "Aspen",
    "Bay Street",
    "Birch Hollow",
    "Blue Ridge",
    "Bluebonnet",
    "Briarwood",
    "Canyon",
    "Cedar Ridge",
    "Clearwater",
    "Cobalt",
    "Coastal",
    "Copper Creek",
    "Cypress",
    "Delta",
    "Eastgate",
    "Elmhurst",
    "Evergreen",
    "Fox Valley",
    "Fulton Street",
    "Garden State",
    "Golden Prairie",
    "Granite",
    "Great Lakes",
    "Harbor View",
    "Hawthorne",
    "Heartland",
    "Highland Park",
    "Hyde Park",
    "Iron Bridge",
    "Juniper",
    "Kestrel",
    "Lakeshore",
    "Lakeside",
    "Laurel",
    "Lincoln Square",
    "Lone Pine",
    "Magnolia",
    "Maple Grove",
    "Meadowbrook",
    "Mesa",
    "Mill Creek",
    "North Shore",
    "Northwind",
    "Oak Brook",
    "Oakmont",
    "Pacific",
    "Pine Valley",
    "Prairie",
    "Quarry Road",
    "Redwood",
    "Ridgeline",
    "Riverbend",
    "Riverside",
    "Sagebrush",
    "Sierra",
    "Silver Lake",
    "Southport",
    "Stonebridge",
    "Summit",
    "Sycamore",
    "Tidewater",
    "Timberline",
    "Union Square",
    "Valley Forge",
    "West End",
    "Westfield",
    "Willow Creek",
)

SURNAMES = (
    "Abbott",
    "Alvarez",
    "Anderson",
    "Baker",
    "Bennett",
    "Brennan",
    "Brooks",
    "Caldwell",
    "Carter",
    "Castillo",
    "Chen",
    "Collins",
    "Cooper",
    "Delgado",
    "Diaz",
    "Donovan",
    "Ellis",
    "Fischer",
    "Foster",
    "Gallagher",
    "Garcia",
    "Goldberg",
    "Grant",
    "Hayes",
    "Henderson",
    "Hughes",
    "Jensen",
    "Kaplan",
    "Keller",
    "Kelly",
    "Kowalski",
    "Larsen",
    "Lindqvist",
    "Lowe",
    "Mahoney",
    "Mendez",
    "Moreno",
    "Murphy",
    "Nakamura",
    "Novak",
    "O'Brien",
    "O'Connell",
    "Ortiz",
    "Patel",
    "Perez",
    "Price",
    "Quinn",
    "Ramirez",
    "Reed",
    "Rivera",
    "Rosen",
    "Russo",
    "Schmidt",
    "Shapiro",
    "Singh",
    "Sokolov",
    "Sullivan",
    "Thompson",
    "Torres",
    "Turner",
    "Vasquez",
    "Walsh",
    "Ward",
    "Weber",
    "Whitman",
    "Yamada",
    "Young",
    "Zimmerman",
)

FIRST_NAMES = (
    "Aaron",
    "Aisha",
    "Alicia",
    "Andre",
    "Angela",
    "Ben",
    "Brenda",
    "Carla",
    "Carlos",
    "Cheryl",
    "Daniel",
    "Deborah",
    "Derek",
    "Diane",
    "Elena",
    "Eric",
    "Fatima",
    "Gary",
    "Grace",
    "Hannah",
    "Hector",
    "Irene",
    "Jamal",
    "Janet",
    "Jason",
    "Jenna",
    "Joyce",
    "Julio",
    "Karen",
    "Keith",
    "Laura",
    "Linda",
    "Luis",
    "Marcus",
    "Megan",
    "Michelle",
    "Nadia",
    "Nathan",
    "Olivia",
    "Paul",
    "Rachel",
    "Raj",
    "Renee",
    "Robert",
    "Rosa",
    "Sandra",
    "Sean",
    "Sharon",
    "Tanya",
    "Terrence",
    "Tiffany",
    "Victor",
    "Wendy",
    "Yolanda",
)

# {p} is a place, {s}/{t}/{u} are surnames. Each industry has its own vocabulary.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "healthcare": (
        "{p} Family Practice",
        "{s} Dental Group",
        "{p} Pediatrics",
        "{p} Orthopedics",
        "{p} Home Health",
        "{p} Physical Therapy",
        "{p} Surgical Center",
        "{p} Rehab",
        "{p} Imaging LLC",
        "{s} Chiropractic",
        "{p} Behavioral Health",
        "{p} Dermatology",
        "{p} Eye Care",
        "{p} Urgent Care",
        "{p} Senior Living",
        "{s} & {t} Family Dentistry",
        "{p} Neurology Associates",
        "{p} Women's Health",
        "{s} Medical Group",
        "{p} Hospice",
    ),
    "legal": (
        "{s} & {t} LLP",
        "{s} {t} Law Group",
        "{s} Legal Partners",
        "{p} Law Offices",
        "{s}, {t} & {u} PC",
        "{s} Family Law",
        "{p} Estate Planning",
        "{s} & {t} Attorneys",
    ),
    "construction": (
        "{p} Builders",
        "{s} & Sons Construction",
        "{p} Roofing",
        "{s} Plumbing & Heating",
        "{p} Electric",
        "{p} Concrete",
        "{p} General Contractors",
        "{s} Homes",
        "{p} Excavating",
        "{s} Mechanical",
        "{p} Restoration",
        "{s} Brothers Framing",
    ),
    "lab": (
        "{p} Diagnostics",
        "{p} Clinical Labs",
        "{p} Pathology Associates",
        "{s} Analytical",
        "{p} Toxicology Lab",
        "{p} Genomics",
        "{s} Reference Laboratory",
        "{p} Sleep Lab",
    ),
    "services": (
        "{p} Case Management",
        "{s} Medical Billing",
        "{p} Staffing",
        "{p} Property Management",
        "{s} Engineering",
        "{p} Life Care Planning",
        "{s} & {t} CPAs",
        "{p} Facility Services",
    ),
}

AREA_CODES = (
    "312",
    "773",
    "630",
    "847",
    "708",
    "414",
    "612",
    "314",
    "214",
    "512",
    "713",
    "404",
    "615",
    "303",
    "602",
    "206",
    "617",
    "919",
)

AP_TITLES = ("Accounts Payable Clerk", "AP Specialist", "Office Manager", "Billing & AP Coordinator")
FINANCE_TITLES: dict[str, tuple[str, ...]] = {
    "healthcare": ("Practice Administrator", "Controller"),
    "legal": ("Firm Administrator", "Controller"),
    "construction": ("Controller", "Office Manager & Bookkeeper"),
    "lab": ("Controller", "Director of Finance"),
    "services": ("Controller", "CFO"),
}


@dataclass(frozen=True)
class Person:
    name: str
    title: str
    email: str
    phone: str


def company_names(rng: random.Random, industries: list[str]) -> list[str]:
    """One unique name per requested industry, in order."""
    taken: set[str] = set()
    names = []
    for industry in industries:
        names.append(_unique_name(rng, industry, taken))
    return names


def _unique_name(rng: random.Random, industry: str, taken: set[str]) -> str:
    for _ in range(200):
        s, t, u = rng.sample(SURNAMES, 3)
        name = rng.choice(TEMPLATES[industry]).format(p=rng.choice(PLACES), s=s, t=t, u=u)
        if name not in taken:
            taken.add(name)
            return name
    raise ValueError(f"ran out of distinct {industry} names")


def mail_domain(company: str) -> str:
    """``cedarridgefamilypractice.example.com``: recognisable, and reserved for documentation."""
    return re.sub(r"[^a-z0-9]", "", company.lower())[:28] + ".example.com"


def contacts(rng: random.Random, company: str, industry: str) -> list[Person]:
    """The AP clerk (who answers first) and the person who signs off payments."""
    domain, area = mail_domain(company), rng.choice(AREA_CODES)
    ap, boss = _person(rng), _person(rng)
    ap_mail = f"ap@{domain}" if rng.random() < 0.35 else _mailbox(ap, domain)
    return [
        Person(ap, rng.choice(AP_TITLES), ap_mail, _phone(rng, area)),
        Person(boss, rng.choice(FINANCE_TITLES[industry]), _mailbox(boss, domain), _phone(rng, area)),
    ]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _mailbox(person: str, domain: str) -> str:
    first, last = person.lower().split(" ", 1)
    return f"{first}.{re.sub(r'[^a-z]', '', last)}@{domain}"


def _phone(rng: random.Random, area: str) -> str:
    return f"({area}) 555-01{rng.randint(0, 99):02d}"
