"""A synthetic, French-looking population for demos, tests and benchmarks. Deterministic for a given seed.

Patient `i` of seed `s` is always the same person, so an interrupted `carnet seed` resumes by skipping the
patients already present.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import luhn_check_digit, nir_key
from carnet.records import repository
from carnet.records.codes import Channel
from carnet.records.documents import deposit_document
from carnet.records.profile import add_profile_entry
from carnet.records.schemas import NewDocument, PatientIdentity, ProfessionalAuthor
from carnet.records.service import open_record
from carnet.stats.calendar import PARIS
from carnet.stats.population import populations

FAMILY_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefevre",
    "Faure",
    "Andre",
    "Mercier",
    "Blanc",
    "Guerin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "Francois",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clement",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noel",
    "Meyer",
]
GIVEN_F = [
    "Marie",
    "Nathalie",
    "Isabelle",
    "Sylvie",
    "Catherine",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Jade",
    "Louise",
    "Inès",
    "Sarah",
    "Julie",
]
GIVEN_M = [
    "Jean",
    "Philippe",
    "Michel",
    "Alain",
    "Nicolas",
    "Pierre",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Thomas",
    "Paul",
    "Karim",
]
SUBSTANCES = ["pénicilline", "arachide", "pollen de graminées", "latex", "iode", "aspirine", "acariens"]

# (class, LOINC type, format, title) of the documents most deposited in real records.
DOCUMENT_KINDS = (
    ("11", "11502-2", "text/xml", "Bilan biologique"),
    ("11", "11502-2", "application/pdf", "Résultats d'analyses sanguines"),
    ("42", "57833-6", "application/pdf", "Ordonnance"),
    ("10", "11490-0", "text/xml", "Lettre de liaison de sortie d'hospitalisation"),
    ("10", "11488-4", "text/plain", "Compte rendu de consultation"),
    ("31", "18748-4", "application/pdf", "Compte rendu d'imagerie"),
    ("10", "11369-6", "text/plain", "Historique des vaccinations"),
)
ORGANISATIONS = ("CHU de Nantes", "Cabinet médical du Port", "Laboratoire BioSanté", "Hôpital Saint-Joseph")


@dataclass(frozen=True, slots=True)
class SyntheticDocument:
    meta: NewDocument
    content: bytes


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"carnet-synthetic:{seed}:{index}")  # noqa: S311 - synthetic data, not secrets


def _postcode(departement: str, rng: random.Random) -> str:
    if departement == "2A":
        return f"20{rng.randint(0, 1)}{rng.randint(0, 9)}0"
    if departement == "2B":
        return f"20{rng.randint(2, 6)}{rng.randint(0, 9)}0"
    if len(departement) == 3:
        return f"{departement}{rng.randint(0, 9)}0"
    return f"{departement}{rng.randint(0, 9)}{rng.randint(0, 9)}0"


def synthetic_patient(seed: int, index: int) -> tuple[str, PatientIdentity]:
    """The INS and identity of patient `index`, with a valid NIR key."""
    rng = _rng(seed, index)
    sex = rng.choice("12")
    birth = date(1930, 1, 1) + timedelta(days=rng.randint(0, 365 * 94))
    places = populations()
    departement = rng.choices(list(places), weights=list(places.values()))[0]
    nir_place = departement if len(departement) == 2 else departement[:2]
    commune = f"{rng.randint(1, 999):03d}" if len(departement) == 2 else f"{departement[2]}{rng.randint(1, 99):02d}"
    nir = f"{sex}{birth:%y}{birth:%m}{nir_place}{commune}{rng.randint(1, 999):03d}"
    identity = PatientIdentity(
        family_name=rng.choice(FAMILY_NAMES),
        given_names=rng.choice(GIVEN_F if sex == "2" else GIVEN_M),
        birth_date=birth,
        sex="F" if sex == "2" else "M",
        postcode=_postcode(departement, rng),
    )
    return nir + nir_key(nir), identity


def synthetic_rpps(rng: random.Random) -> str:
    payload = "10" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return payload + luhn_check_digit(payload)


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (no library needed for a synthetic report)."""
    safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 12 Tf 50 780 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def minimal_cda(title: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>'
        f"{title}</title><component><nonXMLBody><text>{body}</text></nonXMLBody></component></ClinicalDocument>"
    ).encode()


def synthetic_document(rng: random.Random, name: str) -> SyntheticDocument:
    class_code, type_code, fmt, label = rng.choice(DOCUMENT_KINDS)
    act = clock.today() - timedelta(days=rng.randint(1, 3 * 365))
    title = f"{label} du {act:%d/%m/%Y}"
    body = f"{title}. Patient : {name}. Examen clinique sans particularité. Glycémie {rng.randint(70, 130)} mg/dL."
    content = {
        "application/pdf": lambda: minimal_pdf(body),
        "text/xml": lambda: minimal_cda(title, body),
        "text/plain": lambda: body.encode(),
    }[fmt]()
    author = ProfessionalAuthor(
        rpps=synthetic_rpps(rng),
        name=f"Dr {rng.choice(FAMILY_NAMES)}",
        organisation=rng.choice(ORGANISATIONS),
    )
    meta = NewDocument(class_code=class_code, type_code=type_code, title=title, act_date=act, format=fmt, author=author)
    return SyntheticDocument(meta=meta, content=content)


# How records are opened, from the seeds: 39 % at pharmacies, 39 % online, 18 % at insurance desks, 4 % by
# professionals (a quarter of whom at a hospital).
CHANNEL_SHARES = {
    Channel.PHARMACY: 39,
    Channel.ONLINE: 39,
    Channel.INSURANCE_DESK: 18,
    Channel.PROFESSIONAL: 3,
    Channel.HOSPITAL: 1,
}
CAMPAIGN_DAYS = 91  # the synthetic openings are spread over the last thirteen weeks


def synthetic_opening(rng: random.Random, departement: str, now: datetime) -> tuple[Channel, str, datetime]:
    """A channel drawn from the seeds' shares, its opener (a pharmacy of the patient's département, one of five),
    and an instant of the last weeks, in opening hours, Paris time."""
    channel = rng.choices(list(CHANNEL_SHARES), weights=list(CHANNEL_SHARES.values()))[0]
    place = {"2A": "20", "2B": "20"}.get(departement, departement[:2])
    pharmacy = f"{place}{rng.randint(1, 5):06d}"
    opener = {
        Channel.PHARMACY: pharmacy + luhn_check_digit(pharmacy),
        Channel.ONLINE: "patient",
        Channel.HOSPITAL: "440000289",
        Channel.PROFESSIONAL: synthetic_rpps(rng),
        Channel.INSURANCE_DESK: "CPAM0042",
    }[channel]
    day = now.astimezone(PARIS).date() - timedelta(days=rng.randint(0, CAMPAIGN_DAYS - 1))
    moment = datetime.combine(day, time(8), tzinfo=PARIS) + timedelta(seconds=rng.randint(0, 12 * 3600))
    return channel, opener, min(moment, now)


def seed_patient(ctx: Context, actor: Actor, seed: int, index: int, documents: int) -> None:
    """Open patient `index`'s record and fill it with `documents` documents and a small profile, at the instant
    its opening was drawn (the record, its documents and profile are dated then)."""
    ins, identity = synthetic_patient(seed, index)
    rng = _rng(seed, index + 1_000_000_007)  # another stream than the identity's
    departement = departement_of_postcode(identity.postcode).code
    channel, opener, opened_at = synthetic_opening(rng, departement, clock.now())
    with clock.pinned_at(opened_at):
        _fill(ctx, actor, rng, ins, identity, channel, opener, documents)


def _fill(
    ctx: Context,
    actor: Actor,
    rng: random.Random,
    ins: str,
    identity: PatientIdentity,
    channel: Channel,
    opener: str,
    documents: int,
) -> None:
    patient_id = open_record(ctx, actor, ins=ins, identity=identity, channel=channel, opened_by=opener)
    name = f"{identity.given_names} {identity.family_name}"
    for _ in range(documents):
        doc = synthetic_document(rng, name)
        deposit_document(ctx, actor, patient_id, doc.meta, doc.content)
    group = rng.choice(["A+", "A-", "B+", "O+", "O-", "AB+"])
    add_profile_entry(
        ctx,
        actor,
        patient_id,
        {"kind": "blood_group", "group": group},
        source_class="11",
        author_rpps=synthetic_rpps(rng),
    )
    if rng.random() < 0.3:
        allergy = {"kind": "allergy", "substance": rng.choice(SUBSTANCES), "severity": "moderate"}
        add_profile_entry(ctx, actor, patient_id, allergy, source_class="10", author_rpps=synthetic_rpps(rng))


@dataclass(frozen=True, slots=True)
class SeedReport:
    created: int
    skipped: int


def batches(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(start + size, total))


def seed_population(
    unit_of_work: Callable[[], AbstractContextManager[Context]],
    *,
    patients: int,
    documents_per_patient: int,
    seed: int = 1,
    batch_size: int = 200,
    on_batch: Callable[[int], None] = lambda _n: None,
) -> SeedReport:
    """Seed in batches, one transaction each, so memory stays flat and an interruption loses one batch at most."""
    actor = Actor.system("seed")
    created = skipped = 0
    for indexes in batches(patients, batch_size):
        with unit_of_work() as ctx:
            wanted = {index: synthetic_patient(seed, index)[0] for index in indexes}
            present = repository.existing_ins(ctx.session, list(wanted.values()))
            seen: set[str] = set()
            for index, ins in wanted.items():
                if ins in present or ins in seen:
                    skipped += 1
                    continue
                seen.add(ins)
                seed_patient(ctx, actor, seed, index, documents_per_patient)
                created += 1
        on_batch(len(indexes))
    return SeedReport(created=created, skipped=skipped)
