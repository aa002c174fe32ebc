"""The `carnet` command: thin commands that build a runtime and call services."""

from __future__ import annotations

import logging
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from carnet import cli_identity, cli_stats
from carnet.access import gate as access_gate
from carnet.access.actor import Actor
from carnet.access.service import change_matrix
from carnet.audit import repository as audit_repository
from carnet.audit.export import export_professional
from carnet.audit.seal import seal as seal_trail
from carnet.audit.seal import verify_seals
from carnet.audit.service import verify as verify_trail
from carnet.cli_support import build_runtime as _runtime
from carnet.cli_support import err, friendly_errors, out
from carnet.feeds.service import HISTORY_WINDOW, prune_reimbursements
from carnet.identity import operators, registry
from carnet.identity.directory import set_entry as set_directory_entry
from carnet.kit import clock
from carnet.kit.crypto import generate_master_key_text
from carnet.kit.db import migrate as apply_migrations
from carnet.kit.errors import ConfigurationError, Invalid, NotFound
from carnet.kit.identifiers import parse_ins
from carnet.kit.professions import PROFESSIONS
from carnet.notify.worker import ConsoleEmailSender, LogSmsSender, Sender, SmtpEmailSender, run_worker
from carnet.records.document_convert import convert_documents, documents_to_convert
from carnet.records.keys import data_keys_by_master
from carnet.records.profile_convert import convert_entries, entries_to_convert
from carnet.records.repository import record_ids_for_ins
from carnet.records.retention import purge_destroyed_records
from carnet.records.service import destroy_due_records
from carnet.runtime import Runtime, resolve_database_url
from carnet.settings import Environment, ensure_key_file, load_settings
from carnet.synthetic import SeedReport, seed_population, synthetic_patient

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, help="Carnet operations.")
keys_app = typer.Typer(no_args_is_help=True, help="Master keys.")
records_app = typer.Typer(no_args_is_help=True, help="Record lifecycle jobs.")
matrix_app = typer.Typer(no_args_is_help=True, help="The profession x class access matrix.")
profile_app = typer.Typer(no_args_is_help=True, help="The medical profile's stored entries.")
documents_app = typer.Typer(no_args_is_help=True, help="The records' stored documents.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit trail.")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(records_app, name="records")
app.add_typer(matrix_app, name="matrix")
app.add_typer(profile_app, name="profile")
app.add_typer(documents_app, name="documents")
app.add_typer(cli_stats.stats_app, name="stats")


@app.command()
@friendly_errors
def migrate() -> None:
    """Apply the database migrations."""
    settings = load_settings()
    try:
        apply_migrations(resolve_database_url(settings), app_role=settings.database_role)
    except DBAPIError as exc:
        raise ConfigurationError(f"Cannot migrate the database: {str(exc.orig).strip()}") from None
    out.print("Database schema is up to date.")


@app.command()
@friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (CARNET_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (CARNET_PORT).")] = None,
) -> None:
    """Serve Carnet over HTTP."""
    settings = load_settings()
    _serve(_runtime(settings), host or settings.host, port or settings.port)


def _serve(runtime: Runtime, host: str, port: int) -> None:
    import uvicorn

    from carnet.app import create_app

    # Forwarded headers only from the proxies the operator named: uvicorn would otherwise believe any local
    # client's X-Forwarded-For, and the throttle and the audit trail would see the address it claims.
    proxies = runtime.settings.trusted_proxy_list
    uvicorn.run(
        create_app(runtime),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


@app.command()
@friendly_errors
def seed(
    patients: Annotated[int, typer.Option(min=1, help="How many patients to create.")],
    documents_per_patient: Annotated[int, typer.Option(min=0, max=500, help="Documents in each record.")] = 5,
    seed_value: Annotated[int, typer.Option("--seed", help="Same seed, same population.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Patients per transaction.")] = 200,
) -> None:
    """Create a synthetic population (resumable: patients already present are skipped)."""
    runtime = _runtime(load_settings())
    report = _seed(runtime, patients, documents_per_patient, seed_value, batch_size)
    out.print(f"Created {report.created} records; {report.skipped} were already present.")


def _seed(runtime: Runtime, patients: int, documents: int, seed_value: int, batch_size: int) -> SeedReport:
    columns = (TextColumn("Seeding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("patients", total=patients)
        return seed_population(
            runtime.unit_of_work,
            patients=patients,
            documents_per_patient=documents,
            seed=seed_value,
            batch_size=batch_size,
            on_batch=lambda n: progress.advance(task, n),
        )


@app.command()
@friendly_errors
def demo(
    patients: Annotated[int, typer.Option(min=1, max=10_000, help="Synthetic patients to create.")] = 40,
    serve_http: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
) -> None:
    """Run Carnet with demo data: embedded PostgreSQL, migrations, synthetic patients, then serve."""
    settings = load_settings()
    if settings.env is Environment.PRODUCTION:
        raise ConfigurationError("`carnet demo` creates keys and synthetic data; it does not run in production.")
    if settings.master_key is None and settings.master_key_file is None:
        settings = settings.model_copy(update={"master_key_file": _dev_key_file(settings.dev_master_key_file)})
    if settings.audit_sealing_key is None and settings.audit_sealing_key_file is None:
        sealing = _dev_key_file(settings.dev_sealing_key_file)
        settings = settings.model_copy(update={"audit_sealing_key_file": sealing})
    runtime = _runtime(settings, apply=True)
    cli_identity.ensure_demo_directory(runtime)
    report = _seed(runtime, patients, 5, 1, 50)
    out.print(f"Demo data: {report.created} new records, {report.skipped} already there.")
    with runtime.unit_of_work() as ctx:
        seal_trail(ctx.session, settings.sealing_key())
    cli_identity.print_demo_credentials(runtime, [synthetic_patient(1, i) for i in range(min(3, patients))])
    cli_identity.print_demo_staff(runtime)
    cli_identity.print_demo_operator(runtime)
    out.print(f"Carnet answers at http://{settings.host}:{settings.port} (API description at /docs).")
    out.print("In another terminal: `source .venv/bin/activate`, then `carnet audit verify` or `carnet matrix show`.")
    if serve_http:
        stop = threading.Event()
        senders: dict[str, Sender] = {"email": ConsoleEmailSender(out.print), "sms": LogSmsSender()}
        worker_thread = threading.Thread(
            target=run_worker,
            args=(runtime.sessions, runtime.keys, senders),
            kwargs={"once": False, "interval": 1.0, "stop": stop},
            name="demo-outbox",
            daemon=True,
        )
        worker_thread.start()  # the demo delivers its own notifications, e-mail to this terminal
        try:
            _serve(runtime, settings.host, settings.port)
        finally:
            stop.set()


def _dev_key_file(path: Path) -> Path:
    if not path.exists():
        ensure_key_file(path)
        out.print(f"Created a development key in {path} (never use it in production).")
    return path


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random master key (base64), for CARNET_MASTER_KEY or a key file."""
    out.print(generate_master_key_text(), highlight=False)


@keys_app.command("status")
@friendly_errors
def keys_status() -> None:
    """How many keys each master key wraps, and which master keys are configured (the first wraps new keys)."""
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        wrapped = {
            "record data keys": data_keys_by_master(ctx.session),
            "card contact keys": registry.card_keys_by_master(ctx.session),
            "operator second-factor keys": operators.keys_by_master(ctx.session),
        }
    current = runtime.keys.current().key_id
    table = Table("master key id", "configured", *wrapped, "total")
    idle = []
    for key_id in sorted(runtime.keys.key_ids(), key=lambda k: (k != current, k)):
        counts = [by_key.get(key_id, 0) for by_key in wrapped.values()]
        role = "yes, wraps new keys" if key_id == current else "yes"  # the start refuses a missing one
        table.add_row(key_id, role, *map(str, counts), str(sum(counts)))
        if key_id != current and not sum(counts):
            idle.append(key_id)
    out.print(table)
    if idle:
        out.print(f"Wrapping nothing, can be removed from the configuration: {', '.join(idle)}.", highlight=False)


@records_app.command("destroy-due")
@friendly_errors
def records_destroy_due() -> None:
    """Crypto-shred every record whose patient asked for destruction (once the time to cancel is over) or whose
    10-year retention is over."""
    settings = load_settings()
    runtime = _runtime(settings)
    cooling_off = timedelta(days=settings.destruction_cooling_off_days)
    total = 0
    while True:
        with runtime.unit_of_work() as ctx:
            done = destroy_due_records(ctx, Actor.system("destruction"), cooling_off=cooling_off, limit=500)
        total += done
        if done == 0:
            break
    out.print(f"Destroyed {total} records.")


@records_app.command("prune-reimbursements")
@friendly_errors
def records_prune_reimbursements(batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000) -> None:
    """Remove the reimbursement lines older than the 24 months a record keeps (run it daily; safe to rerun)."""
    runtime = _runtime(load_settings())
    lines = 0
    while True:
        with runtime.unit_of_work() as ctx:  # one transaction per batch: an interruption loses one batch
            removed, _ = prune_reimbursements(ctx, Actor.system("retention"), limit=batch_size)
        lines += removed
        if removed == 0:
            break
    kept = (clock.today() - HISTORY_WINDOW).isoformat()
    out.print(f"Removed {lines} reimbursement lines of care before {kept} (older than the 24 months a record keeps).")


@records_app.command("purge-destroyed")
@friendly_errors
def records_purge_destroyed(batch_size: Annotated[int, typer.Option(min=1, max=1000)] = 100) -> None:
    """Remove what remains of destroyed records (their unreadable rows), keeping their audit trail (safe to rerun)."""
    runtime = _runtime(load_settings())
    records = rows = 0
    while True:
        with runtime.unit_of_work() as ctx:  # one transaction per batch: an interruption loses one batch
            purged, removed = purge_destroyed_records(ctx, Actor.system("retention"), limit=batch_size)
        records, rows = records + purged, rows + removed
        if purged == 0:
            break
    out.print(f"Purged {records} destroyed records ({rows} rows removed); their audit trail is kept.")


@profile_app.command("convert")
@friendly_errors
def profile_convert(batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500) -> None:
    """Store each profile entry kept in the old payload form as its FHIR resource (resumable, idempotent)."""
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        remaining = entries_to_convert(ctx)
    total = 0
    with Progress(TextColumn("Converting profile entries"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
        task = bar.add_task("convert", total=remaining)
        while True:
            with runtime.unit_of_work() as ctx:  # one transaction per batch: an interruption loses one batch
                done = convert_entries(ctx, limit=batch_size)
            total += done
            bar.advance(task, done)
            if done == 0:
                break
    out.print(f"Converted {total} profile entries; none left to convert.")


@documents_app.command("convert")
@friendly_errors
def documents_convert(batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500) -> None:
    """Store the DocumentReference of each document deposited before resources were kept (resumable)."""
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        remaining = documents_to_convert(ctx)
    total = 0
    with Progress(TextColumn("Converting documents"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
        task = bar.add_task("convert", total=remaining)
        while True:
            with runtime.unit_of_work() as ctx:  # one transaction per batch: an interruption loses one batch
                done = convert_documents(ctx, limit=batch_size)
            total += done
            bar.advance(task, done)
            if done == 0:
                break
    out.print(f"Converted {total} documents; none left to convert.")


@matrix_app.command("show")
@friendly_errors
def matrix_show() -> None:
    """Print the matrix in force: for each profession, the classes it may read."""
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        matrix = access_gate.matrix(ctx)
    out.print(f"Access matrix version {matrix.version}")
    for profession, label in sorted(PROFESSIONS.items()):
        classes = sorted(c for p, c in matrix.cells if p == profession)
        out.print(f"  {profession} {label:<34} {' '.join(classes) or '(nothing)'}", highlight=False)


def _matrix_change(profession: str, class_code: str, by: str, reason: str, *, allow: bool) -> None:
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        matrix = change_matrix(
            ctx, operator=by, profession=profession, class_code=class_code, allow=allow, reason=reason
        )
    out.print(f"Access matrix version {matrix.version} is in force.")


ProfessionOption = Annotated[str, typer.Option("--profession", help="Profession code, e.g. 21 (pharmacien).")]
ClassOption = Annotated[str, typer.Option("--class", help="Document class (JDV_J57) or DA (advance directives).")]
ByOption = Annotated[str, typer.Option("--by", help="Who makes the change.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept with the version).")]


@matrix_app.command("allow")
@friendly_errors
def matrix_allow(profession: ProfessionOption, class_code: ClassOption, by: ByOption, reason: ReasonOption) -> None:
    """Let a profession read a class of documents (a new matrix version)."""
    _matrix_change(profession, class_code, by, reason, allow=True)


@matrix_app.command("deny")
@friendly_errors
def matrix_deny(profession: ProfessionOption, class_code: ClassOption, by: ByOption, reason: ReasonOption) -> None:
    """Stop a profession from reading a class of documents (a new matrix version)."""
    _matrix_change(profession, class_code, by, reason, allow=False)


@audit_app.command("verify")
@friendly_errors
def audit_verify(
    patient: Annotated[str | None, typer.Option("--patient", help="Only this patient's trail (INS).")] = None,
    record: Annotated[
        uuid.UUID | None, typer.Option("--record", help="Only this record's trail (its id; for a destroyed record).")
    ] = None,
) -> None:
    """Prove the audit trail intact, or name the first broken entry of each broken chain (exit code 1)."""
    if patient is not None and record is not None:
        raise Invalid("Give --patient or --record, not both.")
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        chains = None if record is None else [record]
        if record is not None and not audit_repository.heads(ctx.session, record):
            raise NotFound("No trail has this record id.")
        if patient is not None:
            chains = record_ids_for_ins(ctx.session, parse_ins(patient).value)
            if not chains:
                raise NotFound(
                    "No living or closed record has this INS. A destroyed record keeps no INS: "
                    "verify its trail with --record and the record's id."
                )
        report = verify_trail(ctx.session, chains)
        public_key = runtime.settings.seal_public_key()
        seal_problems = verify_seals(ctx.session, public_key)
    for problem in seal_problems:
        err.print(f"[bold red]Broken:[/] {problem}", highlight=False)
    if report.breaks:
        for found in report.breaks:
            err.print(f"[bold red]Broken:[/] {found}", highlight=False)
        err.print(f"{len(report.breaks)} of {report.chains} chains are broken ({report.entries} entries read).")
    if report.breaks or seal_problems:
        raise typer.Exit(1)
    out.print(f"Audit trail intact: {report.chains} chains, {report.entries} entries checked.")
    if public_key is None:
        out.print("Seal signatures were not checked: set CARNET_AUDIT_PUBLIC_KEY (or the sealing key).")


@audit_app.command("seal")
@friendly_errors
def audit_seal() -> None:
    """Seal the heads of every chain that moved into the signed Merkle log (run it periodically)."""
    settings = load_settings()
    key = settings.sealing_key()
    runtime = _runtime(settings)
    with runtime.unit_of_work() as ctx:
        sealed = seal_trail(ctx.session, key)
    if sealed is None:
        out.print("Nothing new to seal.")
    else:
        out.print(f"Sealed: the log has {sealed.size} leaves; root {sealed.root.hex()} signed by key {sealed.key_id}.")


@audit_app.command("export")
@friendly_errors
def audit_export(
    professional: Annotated[str, typer.Option("--professional", help="The professional's RPPS.")],
    since: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day (included).")],
    until: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day (excluded).")],
    output: Annotated[Path | None, typer.Option(help="CSV file to write (default: standard output).")] = None,
) -> None:
    """Every access of one professional over a period, as CSV: identifiers and codes, no medical content."""
    start, end = since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
    if end <= start:
        raise Invalid("--until must come after --since.")
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        if output is None:
            count = export_professional(ctx.session, professional, start, end, sys.stdout)
        else:
            with output.open("w", newline="", encoding="utf-8") as handle:
                count = export_professional(ctx.session, professional, start, end, handle)
    err.print(f"{count} entries exported.")


@app.command()
@friendly_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between looks at an empty outbox.")] = 5.0,
) -> None:
    """Deliver notifications from the outbox (e-mail over SMTP, SMS through the log), retrying with backoff."""
    settings = load_settings()
    runtime = _runtime(settings)
    senders: dict[str, Sender] = {
        "email": SmtpEmailSender(settings.smtp_host, settings.smtp_port, settings.smtp_sender),
        "sms": LogSmsSender(),
    }
    logging.getLogger("carnet.notify").setLevel(logging.INFO)
    handled = run_worker(runtime.sessions, runtime.keys, senders, once=once, interval=interval)
    out.print(f"{handled} messages handled.")


directory_app = typer.Typer(no_args_is_help=True, help="The professional directory.")
app.add_typer(directory_app, name="directory")


@directory_app.command("set")
@friendly_errors
def directory_set(
    rpps: Annotated[str, typer.Option(help="The professional's RPPS.")],
    profession: Annotated[str, typer.Option(help="Profession code, e.g. 10 (médecin).")],
    name: Annotated[str, typer.Option(help="Name as the registry writes it.")],
    email: Annotated[str, typer.Option(help="Secure messaging address (MSSanté).")],
    by: Annotated[str, typer.Option("--by", help="Who makes the change.")],
) -> None:
    """Add or update a professional in the directory (how Carnet reaches a regular doctor)."""
    runtime = _runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        set_directory_entry(ctx.session, operator=by, rpps=rpps, name=name, profession=profession, email=email)
    out.print("Directory entry saved.")


app.command("token")(cli_identity.token)
app.add_typer(cli_identity.card_app, name="card")
app.add_typer(cli_identity.operators_app, name="operators")
app.add_typer(cli_identity.clients_app, name="clients")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()
