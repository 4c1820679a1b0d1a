"""`complaints privacy erase|export|retention`: one person's data, and the retention rounds.

Each command runs against the pipeline's database (`--mongo-url`, `--database`) and is audited
in `privacy_requests`: who ran it, when, which complaints, how many documents changed — never
the identifiers (the one searched for only as a digest). docs/privacy.md says what each does.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.erasure import CONTACTS, PERSONAL_DATA
from contracts.read_models import CASE_FACTS

RETENTION_DEFAULTS = {"contacts_after_close_days": 90.0, "raw_payloads_after_close_days": 30.0}
"""Days after a case closes that its contact and raw payload are kept, unless the pack's
`privacy.yaml` says otherwise."""
REPO = Path(__file__).resolve().parents[3]


class RetentionError(ValueError):
    """A pack's `privacy.yaml` is malformed."""


def retention_days(policy_dir: Path, pack: str) -> dict[str, float]:
    """The pack's retention periods (`policies/<pack>/privacy.yaml`), defaults for the rest."""
    from servicekit.packfile import read_yaml

    path = policy_dir / pack / "privacy.yaml"
    if not path.exists():
        return dict(RETENTION_DEFAULTS)
    raw = read_yaml(path, RetentionError)
    settings = raw.get("retention", {}) if isinstance(raw, dict) else None
    if not isinstance(settings, dict) or set(settings) - set(RETENTION_DEFAULTS):
        raise RetentionError(f"{path}: retention takes {sorted(RETENTION_DEFAULTS)}")
    days = dict(RETENTION_DEFAULTS)
    for name, value in settings.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise RetentionError(f"{path}: retention.{name} must be a number of days ≥ 0")
        days[name] = float(value)
    return days


@dataclass(frozen=True)
class Target:
    """Which database, and who runs the command."""

    mongo_url: str
    database: str
    operator: str


def _db(target: Target) -> Any:
    from pydantic import SecretStr

    from servicekit.mongo import database, open_client
    from servicekit.settings import MongoSettings

    settings = MongoSettings(url=SecretStr(target.mongo_url), database=target.database)
    client = open_client(settings, app_name="complaints-privacy")
    return client, database(client, settings)


def _audit(target: Target, action: str, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "_id": uuid.uuid4().hex,
        "at": now,
        "action": action,
        "operator": target.operator,
        **fields,
    }


async def person_command(target: Target, action: str, subject: str, out: Path | None) -> int:
    """Erase or export one person (found by phone or customer id)."""
    from complaints_cli.privacy import PersonalDataStore, digest, looks_like_phone

    client, db = _db(target)
    store = PersonalDataStore(db)
    now = datetime.now(UTC)
    try:
        by_phone = looks_like_phone(subject)
        person = await (store.find(phone=subject) if by_phone else store.find(customer=subject))
        if not person.found:
            print(json.dumps({"found": False, "by": "phone" if by_phone else "customer"}))
            return 1
        summary: dict[str, Any] = {"complaints": list(person.complaint_ids)}
        if action == "erase":
            summary["changed"] = await store.erase(person, now=now)
        else:
            held = await store.export(person)
            text = json.dumps(held, ensure_ascii=False, default=str, indent=2)
            if out is None:
                sys.stdout.write(text + "\n")
            else:
                await asyncio.to_thread(out.write_text, text, encoding="utf-8")
            summary["documents"] = {name: len(docs) for name, docs in held.items()}
        await store.audit(_audit(target, action, now, subject_digest=digest(subject), **summary))
        if action == "erase" or out is not None:
            print(json.dumps(summary, ensure_ascii=False))
        return 0
    finally:
        await client.close()


async def retention_command(target: Target, days: dict[str, float], now: datetime) -> int:
    """Erase the contacts and raw payloads of cases closed longer ago than the pack keeps them."""
    from complaints_cli.privacy import PersonalDataStore
    from servicekit.read_models import read

    raw_payloads = next(d for d in PERSONAL_DATA if d.collection == "raw_payloads")
    client, db = _db(target)
    store = PersonalDataStore(db)
    summary: dict[str, Any] = {}
    try:
        for declared, name in ((CONTACTS, "contacts"), (raw_payloads, "raw_payloads")):
            cutoff = now - timedelta(days=days[f"{name}_after_close_days"])
            closed = await read(db, CASE_FACTS, {"closed_at": {"$lt": cutoff}})
            person = await store.of_complaints([c.id for c in closed])
            ids = sorted(c.id for c in closed)
            changed = await store.erase(
                person if declared is CONTACTS else type(person)(tuple(ids), frozenset()),
                now=now,
                only=(declared,),
            )
            summary[name] = changed[name]
        await store.audit(_audit(target, "retention", now, changed=summary, days=days))
        print(json.dumps({"retention": summary, "days": days}))
        return 0
    finally:
        await client.close()


def _run(args: argparse.Namespace) -> int:
    from complaints_cli.pipeline import StackConfig

    target = Target(
        mongo_url=args.mongo_url or StackConfig(database=args.database).mongo,
        database=args.database,
        operator=args.operator or getpass.getuser(),
    )
    if args.privacy_command == "retention":
        days = retention_days(args.policy_dir, args.pack)
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
        return asyncio.run(retention_command(target, days, now))
    out = getattr(args, "out", None)
    return asyncio.run(person_command(target, args.privacy_command, args.subject, out))


def add_privacy_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`complaints privacy …`."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--database", default="complaints_demo")
    where.add_argument("--mongo-url", help="default: $COMPLAINTS_MONGO or the local stack")
    where.add_argument("--operator", help="who runs it, for the audit (default: the OS user)")
    privacy = sub.add_parser("privacy", help="erase or export one person's data; retention")
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, text in (
        ("erase", "remove a person's phone, name and address everywhere (statistics kept)"),
        ("export", "write everything held about a person as JSON"),
    ):
        cmd = commands.add_parser(name, parents=[where], help=text)
        cmd.add_argument("subject", help="the person's phone number or customer id")
        if name == "export":
            cmd.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
        cmd.set_defaults(func=_run)
    retention = commands.add_parser(
        "retention",
        parents=[where],
        help="erase contacts and raw payloads of cases closed longer than the pack keeps them",
    )
    retention.add_argument("--policy-dir", type=Path, default=REPO / "policies")
    retention.add_argument("--pack", default="telecom")
    retention.add_argument("--now", help="ISO time to count from (default: now)")
    retention.set_defaults(func=_run)
