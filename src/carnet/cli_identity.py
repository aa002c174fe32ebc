"""`carnet token`, `carnet card`, `carnet operators`, `carnet clients`: identities for development and operations.

`token` and `card` act as real clients do (a bearer token, a card that signs a challenge) without a smart
card reader or an identity provider; they refuse to run in production, where identities come from the
national identity provider and real cards.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import typer

from carnet.access.actor import Actor, Mode
from carnet.api.deps import Web
from carnet.cli_support import build_runtime, friendly_errors, out
from carnet.identity import accounts, cards, clients, operators, registry
from carnet.identity.accounts import SecondFactor
from carnet.identity.cards import CardShown, SimulatedCard
from carnet.identity.directory import set_entry as set_directory_entry
from carnet.identity.models import CardMinor, DirectoryEntry, VitaleCard
from carnet.identity.tokens import parse_scopes
from carnet.kit import clock
from carnet.kit.errors import ConfigurationError, Invalid, NotFound
from carnet.kit.identifiers import nir_key, parse_finess, parse_ins, parse_rpps
from carnet.kit.professions import PROFESSIONS
from carnet.records import repository as records_repository
from carnet.records.schemas import PatientIdentity
from carnet.runtime import Runtime
from carnet.settings import Environment, Settings, load_settings

card_app = typer.Typer(no_args_is_help=True, help="Simulated cartes Vitale (development only).")
operators_app = typer.Typer(no_args_is_help=True, help="Operator accounts.")
clients_app = typer.Typer(no_args_is_help=True, help="Registered professional software (OAuth2 clients).")
INSURER = Actor.system("insurer-cards")


def _development_only(what: str) -> Settings:
    settings = load_settings()
    if settings.env is Environment.PRODUCTION:
        raise ConfigurationError(f"`carnet {what}` is for development and tests; it does not run in production.")
    return settings


def _patient_id(runtime: Runtime, ins: str) -> uuid.UUID:
    with runtime.unit_of_work() as ctx:
        record = records_repository.living_record_for_ins(ctx.session, parse_ins(ins).value)
        if record is None:
            raise NotFound("No open record has this INS.")
        return record.patient_id


@friendly_errors
def token(
    rpps: Annotated[str | None, typer.Option(help="A professional's RPPS.")] = None,
    profession: Annotated[str | None, typer.Option(help="Their profession code, e.g. 10 or 21.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Their organisation's FINESS.")] = None,
    mode: Annotated[Mode, typer.Option(help="Access mode.")] = Mode.NORMAL,
    reason: Annotated[str | None, typer.Option(help="Justification (emergency and regulation modes).")] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="SMART scope, repeatable (default user/*.read, write).")
    ] = None,
    patient: Annotated[str | None, typer.Option(help="A patient's INS: a token for the patient instead.")] = None,
    desk: Annotated[str | None, typer.Option(help="An insurance desk agent's staff id instead.")] = None,
    office: Annotated[str | None, typer.Option(help="The desk's office code.")] = None,
) -> None:
    """Print a bearer token from the built-in issuer, for scripts and tests (never in production)."""
    settings = _development_only("token")
    chosen = [name for name, value in (("--rpps", rpps), ("--patient", patient), ("--desk", desk)) if value]
    if len(chosen) != 1:
        raise Invalid("Say who the token is for: one of --rpps (with --profession), --patient or --desk.")
    issuer = Web.issuer_for(settings)
    if patient:
        printed = issuer.for_patient(_patient_id(build_runtime(settings), patient))
    elif desk:
        if not desk.isalnum() or len(desk) > 32:
            raise Invalid("A staff id has up to 32 letters or digits.")
        printed = issuer.for_desk(desk, office)
    else:
        if profession not in PROFESSIONS:
            raise Invalid(f"Give --profession, one of: {', '.join(sorted(PROFESSIONS))}.")
        scopes = parse_scopes(" ".join(scope)) if scope else frozenset({"user/*.read", "user/*.write"})
        printed = issuer.for_professional(
            rpps=parse_rpps(rpps or ""),
            profession=profession,
            organisation=parse_finess(organisation) if organisation else None,
            scopes=scopes,
            mode=mode,
            purpose=reason,
        )
    out.print(printed, highlight=False, soft_wrap=True)


def simulated_card(settings: Settings, ins: str) -> SimulatedCard:
    """The development card of an INS: the same serial and keys every time, from the data folder's secret."""
    return cards.development_card(settings.data_dir, ins)


def ensure_simulated_card(runtime: Runtime, ins: str) -> SimulatedCard:
    """The card, registered as the insurer would, with a contact of the demo's (its mail reaches the terminal)."""
    card = simulated_card(runtime.settings, ins)
    email = f"{card.serial.lower()}@carnet.localhost"
    with runtime.unit_of_work() as ctx:
        registered = ctx.session.get(VitaleCard, card.serial)
        if registered is None:
            cards.register_card(ctx, INSURER, ins, card.serial, card.public_key(), email=email)
        elif registered.contact_email_ct is None and registered.contact_phone_ct is None:
            registry.set_contact(ctx, registered, email=email, phone=None)
    return card


# A holder of a card with no record yet, to try opening a record online (the same NIR on every run).
DEMO_OPENING_NIR = "2850475111042"


# A child of the first demo patient, covered on the parent's card: the registry makes the parent her legal
# representative, so the portal's switch to a child's record can be tried at once (the same NIR on every run).
DEMO_CHILD_NIR = "2180544109017"
DEMO_CHILD_AGE = 8


def ensure_demo_family(runtime: Runtime, parent_ins: str, family_name: str) -> str:
    """The demo parent's child: her record opened at a desk with her card, then covered on the parent's card
    (which links them). A rerun finds both done and changes nothing. Returns the child's given name."""
    ins = DEMO_CHILD_NIR + nir_key(DEMO_CHILD_NIR)
    today = clock.today()
    born = today.replace(year=today.year - DEMO_CHILD_AGE, day=1)
    child = PatientIdentity(family_name=family_name, given_names="Léa", birth_date=born, sex="F", postcode="44000")
    card = ensure_simulated_card(runtime, ins)
    parent_card = ensure_simulated_card(runtime, parent_ins)
    desk = Actor.desk("DEMODESK")
    with runtime.unit_of_work() as ctx:
        if records_repository.living_record_for_ins(ctx.session, ins) is None:
            challenge = cards.issue_challenge(ctx, desk)
            shown = CardShown(challenge.id, card.serial, card.sign(challenge, cards.reader_of(desk)))
            cards.open_record_with_card(ctx, desk, shown, child)
        registered = ctx.session.get(CardMinor, (parent_card.serial, ins))
        cards.cover_minors(ctx, INSURER, parent_card.serial, [(ins, registered.birth_date if registered else born)])
    return child.given_names


def print_demo_opening(runtime: Runtime) -> None:
    ins = DEMO_OPENING_NIR + nir_key(DEMO_OPENING_NIR)
    card = ensure_simulated_card(runtime, ins)
    with runtime.unit_of_work() as ctx:
        opened = records_repository.living_record_for_ins(ctx.session, ins) is not None
    where = (
        "already opened online: sign in with the account chosen then"
        if opened
        else "the code by e-mail appears in this terminal"
    )
    out.print(
        f"  A card with no record yet: open it online at /patient/open with NIR {ins[:13]}, "
        f"card {card.serial} ({where})",
        highlight=False,
    )


@card_app.command("issue")
@friendly_errors
def card_issue(patient: Annotated[str, typer.Option(help="The holder's INS.")]) -> None:
    """Register a simulated carte Vitale for this INS (as the insurer would) and print its serial."""
    settings = _development_only("card issue")
    ins = parse_ins(patient).value
    card = ensure_simulated_card(build_runtime(settings), ins)
    out.print(f"Card {card.serial} is registered for INS {ins}.", highlight=False)


@card_app.command("present")
@friendly_errors
def card_present(
    patient: Annotated[str, typer.Option(help="The card holder's INS.")],
    to: Annotated[str, typer.Option("--to", help="The RPPS of the professional the card is shown to.")],
    profession: Annotated[
        str | None, typer.Option(help="Their profession (default: the directory's, else 10).")
    ] = None,
    organisation: Annotated[str | None, typer.Option(help="Their organisation's FINESS.")] = None,
) -> None:
    """Simulate a card reader: the patient's card signs a fresh challenge, which authorises the professional."""
    settings = _development_only("card present")
    runtime = build_runtime(settings)
    ins, rpps = parse_ins(patient).value, parse_rpps(to)
    card = ensure_simulated_card(runtime, ins)
    with runtime.unit_of_work() as ctx:
        entry = ctx.session.get(DirectoryEntry, rpps)
        code = profession or (entry.profession if entry else "10")
        if code not in PROFESSIONS:
            raise Invalid(f"Unknown profession code '{code}'.")
        actor = Actor.professional(rpps, code, parse_finess(organisation) if organisation else None)
        challenge = cards.issue_challenge(ctx, actor)
        _, granted = cards.present_card(ctx, actor, challenge.id, card.serial, card.sign(challenge, rpps))
    out.print(
        f"Card {card.serial} presented to RPPS {rpps}: {granted.scope} authorisation until "
        f"{granted.expires_at:%Y-%m-%d}.",
        highlight=False,
    )


@operators_app.command("add")
@friendly_errors
def operators_add(
    login: Annotated[str, typer.Option(help="The operator's login.")],
    role: Annotated[list[str], typer.Option(help=f"Role, repeatable: {', '.join(sorted(operators.ROLES))}.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an operator account; its TOTP secret is printed once, for an authenticator app."""
    runtime = build_runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        created = operators.create_operator(ctx, login=login, password=password, roles=role)
    out.print(f"Operator {created.login} created. TOTP secret (shown once): {created.totp_secret}", highlight=False)
    out.print(created.totp_uri, highlight=False)


@clients_app.command("add")
@friendly_errors
def clients_add(
    name: Annotated[str, typer.Option(help="The software's name.")],
    rpps: Annotated[str, typer.Option(help="The professional it acts for.")],
    profession: Annotated[str, typer.Option(help="Their profession code.")],
    scope: Annotated[list[str], typer.Option(help="A SMART scope it may ask for, repeatable.")],
    organisation: Annotated[str | None, typer.Option(help="Their organisation's FINESS.")] = None,
) -> None:
    """Register professional software; its client secret is printed once."""
    runtime = build_runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        client = clients.register_client(
            ctx, name=name, rpps=rpps, profession=profession, organisation=organisation, scopes=" ".join(scope)
        )
    out.print(f"client_id={client.client_id}", highlight=False)
    out.print(f"client_secret={client.client_secret}", highlight=False)


# The demo's first two patients get an account at once (development only): one signs in with an
# authenticator app (TOTP), one with a code by e-mail, printed in the demo's terminal. The third keeps an
# activation code, to try the activation journey. What the demo chose is kept in a file of the data folder,
# readable by its owner only, so a rerun prints the same sign-ins and replaces no account.
DEMO_ACCOUNTS: tuple[tuple[str, SecondFactor], ...] = (("demo.totp", "totp"), ("demo.email", "email"))
DEMO_PASSWORD = "tilleul-ardoise-carnet-27"  # noqa: S105 (the demo's accounts, development only, printed)


def print_demo_credentials(runtime: Runtime, people: list[tuple[str, PatientIdentity]]) -> None:
    """For each demo patient: a sign-in that works at once in the portal, or their card and an activation code."""
    desk = Actor.desk("DEMODESK")
    kept = _demo_accounts_file(runtime.settings)
    known: dict[str, dict[str, str]] = json.loads(kept.read_text(encoding="utf-8")) if kept.is_file() else {}
    out.print(f"Demo patients (portal: {runtime.settings.public_url.rstrip('/')}/):")
    for index, (ins, identity) in enumerate(people):
        card = ensure_simulated_card(runtime, ins)
        with runtime.unit_of_work() as ctx:
            challenge = cards.issue_challenge(ctx, desk)
            shown = CardShown(challenge.id, card.serial, card.sign(challenge, cards.reader_of(desk)))
            login, factor = DEMO_ACCOUNTS[index] if index < len(DEMO_ACCOUNTS) else (None, None)
            if login is None or factor is None:
                code = cards.reissue_activation_code(ctx, desk, shown)
                out.print(
                    f"  {identity.given_names} {identity.family_name}: activate at /patient/activate with NIR "
                    f"{ins[:13]}, card {card.serial}, code {code.code}",
                    highlight=False,
                )
                continue
            if not accounts.login_in_use(ctx, login):
                code = cards.reissue_activation_code(ctx, desk, shown)
                form = accounts.Activation(
                    nir=ins[:13],
                    card_serial=card.serial,
                    code=code.code,
                    login=login,
                    password=DEMO_PASSWORD,
                    second_factor=factor,
                    email=f"{login}@carnet.localhost" if factor == "email" else None,
                )
                step = accounts.activate(ctx, form, address="127.0.0.1")
                secret = parse_qs(urlsplit(step.totp_uri).query)["secret"][0] if step.totp_uri else ""
                known[login] = {"totp_secret": secret}
        how = (
            f"TOTP secret {known.get(login, {}).get('totp_secret', '(printed on the first run)')}"
            if factor == "totp"
            else "the code by e-mail appears in this terminal"
        )
        out.print(
            f"  {identity.given_names} {identity.family_name}: sign in as {login}, password {DEMO_PASSWORD}, {how}",
            highlight=False,
        )
        if index == 0:
            child = ensure_demo_family(runtime, ins, identity.family_name)
            out.print(
                f"    {child} {identity.family_name}, {DEMO_CHILD_AGE}, is covered on this card: after signing in as "
                f'{login}, follow "switch record" on the home page to see her record.',
                highlight=False,
            )
    _write_private(kept, json.dumps(known))
    print_demo_opening(runtime)
    out.print("A doctor's bearer token: carnet token --rpps 10000000017 --profession 10", highlight=False)


def _demo_accounts_file(settings: Settings) -> Path:
    return settings.data_dir / "dev-demo-accounts.json"


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds the demo's TOTP secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


# The demo's directory of professionals: who the staff sign-in page offers in development, and whom a patient
# finds to authorise, block or choose as regular doctor. Fixed numbers, so every demo has the same people.
DEMO_DIRECTORY: tuple[tuple[str, str, str], ...] = (
    ("10000000017", "Dr Claire Martin", "10"),
    ("10000000025", "Dr Karim Benali", "10"),
    ("10000000033", "Sophie Laurent", "21"),
    ("10000000041", "Julien Moreau", "60"),
    ("10000000058", "Dr Hélène Petit", "40"),
    ("10000000066", "Marc Dubois", "80"),
    ("10000000074", "Emma Leroy", "50"),
    ("10000000082", "Thomas Roux", "70"),
)
DEMO_PHARMACY = "750000028"  # FINESS of the demo's pharmacy


def ensure_demo_directory(runtime: Runtime) -> None:
    """The demo's professionals in the directory (entries already there are left as they are)."""
    with runtime.unit_of_work() as ctx:
        for rpps, name, profession in DEMO_DIRECTORY:
            if ctx.session.get(DirectoryEntry, rpps) is None:
                email = f"{rpps}@demo.mssante.localhost"
                set_directory_entry(
                    ctx.session, operator="demo", rpps=rpps, name=name, profession=profession, email=email
                )


# A holder of a card with no record yet, for a counter or a desk to open one (the same NIR on every run).
DEMO_COUNTER_NIR = "1920769123456"


def print_demo_staff(runtime: Runtime) -> None:
    base = runtime.settings.public_url.rstrip("/")
    ins = DEMO_COUNTER_NIR + nir_key(DEMO_COUNTER_NIR)
    ensure_simulated_card(runtime, ins)
    with runtime.unit_of_work() as ctx:
        opened = records_repository.living_record_for_ins(ctx.session, ins) is not None
    out.print(f"Professionals, pharmacy counters and insurance desks sign in at {base}/staff/sign-in:", highlight=False)
    out.print(
        "  development: pick Dr Claire Martin (a doctor), or Sophie Laurent (a pharmacist) at the pharmacy",
        highlight=False,
    )
    out.print(
        f"  with FINESS {DEMO_PHARMACY}; a desk agent types any staff id and office code (e.g. AGENT1, CPAM75).",
        highlight=False,
    )
    state = "its record is open now" if opened else "no record yet: open one there"
    out.print(
        f"  At a counter or a desk, the simulated card reader reads NIR {DEMO_COUNTER_NIR} ({state}), or any demo"
        " patient's NIR.",
        highlight=False,
    )


# The demo's operator (development only): every role, signed in at /operator/sign-in with the password and a code
# from the TOTP secret printed here. Its secret is kept in a file of its own in the data folder (owner only), so a
# rerun prints the same sign-in and replaces no account.
DEMO_OPERATOR = "demo.operator"


def print_demo_operator(runtime: Runtime) -> None:
    kept = runtime.settings.data_dir / "dev-demo-operator.json"
    known: dict[str, str] = json.loads(kept.read_text(encoding="utf-8")) if kept.is_file() else {}
    with runtime.unit_of_work() as ctx:
        if not operators.login_in_use(ctx, DEMO_OPERATOR):
            created = operators.create_operator(
                ctx, login=DEMO_OPERATOR, password=DEMO_PASSWORD, roles=sorted(operators.ROLES)
            )
            known = {"totp_secret": created.totp_secret}
    _write_private(kept, json.dumps(known))
    secret = known.get("totp_secret", "(printed on the first run)")
    out.print(
        f"Operator space: sign in at /operator/sign-in as {DEMO_OPERATOR}, password {DEMO_PASSWORD}, "
        f"TOTP secret {secret} (every role)",
        highlight=False,
    )
