"""Keyed checkpoints of the audit chain: an anchor the database's owner cannot forge.

The hash chain (``_audit``) shows a record altered or removed *between* others, but not the
newest records cut off, nor the whole table rewritten and re-hashed: anyone who can write the
database can recompute an unkeyed chain.  A checkpoint records how many records the chain had,
up to which record and with which hash, under an HMAC-SHA256 whose key is **not** in the
database: a file of 32 random bytes (hex), owner-only (mode 0600), at
``CRSWATCH_AUDIT_KEY_FILE`` or ``audit-checkpoint.key`` in the data directory
(docs/decisions/0062-audit-checkpoints.md).  Each checkpoint's MAC also covers the previous
checkpoint's MAC, so a checkpoint removed from the middle shows too.

Checkpoints are written in the transaction of the audit record that makes one due (every
``every`` records, or the first record ``interval`` after the newest checkpoint), and on demand
(``crswatch audit checkpoint``).  :func:`verify_audit` walks the chain and the checkpoints
together: a checkpoint whose record is gone (truncated tail), whose record's hash or position
differs (rewritten and re-hashed), whose MAC does not match (forged) or whose predecessor is
missing fails the check, naming the checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from crswatch.errors import CRSWatchError
from crswatch.store._audit import GENESIS, ChainCheck, lock_chain, record_hash
from crswatch.store._checkpoint_log import (
    checkpoint_log_path,
    flush_pending,
    log_entry,
    logged_problem,
    read_log,
)
from crswatch.store._models import AuditCheckpoint, AuditRecord
from crswatch.timeline import format_time

__all__ = [
    "AnchorCheck",
    "AuditCheck",
    "AuditKey",
    "AuditKeyError",
    "CheckpointPolicy",
    "audit_check",
    "audit_key_path",
    "create_audit_key",
    "ensure_audit_key",
    "load_audit_key",
    "maybe_checkpoint",
    "verify_audit",
    "write_checkpoint",
]

KEY_FILE_NAME = "audit-checkpoint.key"
#: The session-info entry through which ``append_audit`` finds the policy (``Store``).
POLICY_INFO = "crswatch.audit_checkpoints"
#: Checkpoints written in the session's transaction, for the log once it commits.
PENDING_INFO = "crswatch.audit_checkpoints.pending"
_KEY_BYTES = 32


class AuditKeyError(CRSWatchError):
    """The checkpoint key is missing, unreadable, malformed or readable by others."""


def audit_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """``CRSWATCH_AUDIT_KEY_FILE``, else ``audit-checkpoint.key`` in the data directory."""
    env = os.environ if environ is None else environ
    configured = env.get("CRSWATCH_AUDIT_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(env.get("CRSWATCH_DATA_DIR") or "crswatch-data") / KEY_FILE_NAME


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The checkpoint key and where it came from (the secret is never printed)."""

    secret: bytes = field(repr=False)
    path: Path

    @property
    def key_id(self) -> str:
        """A public fingerprint: which key wrote a checkpoint (not enough to forge one)."""
        return hashlib.sha256(b"crswatch audit key id\n" + self.secret).hexdigest()[:16]

    def mac(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()


def load_audit_key(path: Path) -> AuditKey:
    """Read the key file; :class:`AuditKeyError` says what is wrong and how to mend it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise AuditKeyError(
            f"audit key file {path} does not exist (CRSWATCH_AUDIT_KEY_FILE, or "
            f"{KEY_FILE_NAME} in the data directory)"
        ) from None
    if not stat.S_ISREG(mode):
        raise AuditKeyError(f"audit key file {path} is not a regular file")
    if mode & 0o077:
        # As ssh does with private keys: a key others can read anchors nothing.
        raise AuditKeyError(
            f"audit key file {path} is readable or writable by others "
            f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it"
        )
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AuditKeyError(f"audit key file {path} cannot be read: {type(exc).__name__}") from None
    if len(secret) < _KEY_BYTES:
        raise AuditKeyError(
            f"audit key file {path} holds {len(secret)} bytes; a key is {_KEY_BYTES} random "
            "bytes written as hexadecimal"
        )
    return AuditKey(secret, path)


def create_audit_key(path: Path) -> AuditKey:
    """Write a new random key, owner-only; never over an existing file."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    secret = secrets.token_bytes(_KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"audit key file {path} already exists; not replaced") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    return AuditKey(secret, path)


def ensure_audit_key(session: Session, path: Path) -> AuditKey:
    """The key at ``path``; created when missing only while the database holds no checkpoint
    (a new key would leave the earlier checkpoints unverifiable: restore the old one)."""
    if path.exists():
        return load_audit_key(path)
    written = session.execute(select(func.count()).select_from(AuditCheckpoint)).scalar()
    if written:
        raise AuditKeyError(
            f"audit key file {path} does not exist, and the database holds {written} "
            "checkpoint(s) written with a key: restore that key file (or point "
            "CRSWATCH_AUDIT_KEY_FILE at it); a new key would leave them unverifiable"
        )
    return create_audit_key(path)


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When ``append_audit`` writes a checkpoint: every ``every`` records, and at the first
    record ``interval`` or more after the newest checkpoint."""

    key: AuditKey
    every: int = 100
    interval: timedelta = timedelta(hours=1)
    #: The checkpoint log outside the database (``_checkpoint_log``); None: none kept.
    log: Path | None = None

    @classmethod
    def from_env(cls, key: AuditKey, environ: Mapping[str, str] | None = None) -> CheckpointPolicy:
        """``CRSWATCH_AUDIT_CHECKPOINT_EVERY`` (records, default 100) and
        ``CRSWATCH_AUDIT_CHECKPOINT_MINUTES`` (default 60)."""
        env = os.environ if environ is None else environ
        every = _positive(env, "CRSWATCH_AUDIT_CHECKPOINT_EVERY", 100)
        minutes = _positive(env, "CRSWATCH_AUDIT_CHECKPOINT_MINUTES", 60)
        return cls(key, int(every), timedelta(minutes=minutes), checkpoint_log_path(key.path, env))


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise AuditKeyError(f"{name}={text!r}: not a positive number")
    return value


def _message(checkpoint: AuditCheckpoint) -> str:
    fields = {
        "written": checkpoint.written,
        "records": checkpoint.records,
        "last_pk": checkpoint.last_pk,
        "last_hash": checkpoint.last_hash,
        "key_id": checkpoint.key_id,
        "prev_mac": checkpoint.prev_mac,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def _newest(session: Session) -> AuditCheckpoint | None:
    return session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.pk.desc()).limit(1)
    ).scalar_one_or_none()


def write_checkpoint(session: Session, key: AuditKey) -> AuditCheckpoint | None:
    """Anchor the chain as it stands in this transaction; None when it has no record yet.

    When the newest checkpoint already covers the newest record, that one is returned.
    """
    lock_chain(session)
    last = session.execute(
        select(AuditRecord.pk, AuditRecord.hash).order_by(AuditRecord.pk.desc()).limit(1)
    ).first()
    if last is None:
        return None
    previous = _newest(session)
    if previous is not None and previous.last_pk == last.pk:
        return previous
    since = AuditRecord.pk > previous.last_pk if previous is not None else AuditRecord.pk > 0
    added = session.execute(select(func.count()).select_from(AuditRecord).where(since)).scalar()
    checkpoint = AuditCheckpoint(
        written=format_time(datetime.now(UTC)),
        records=(previous.records if previous is not None else 0) + int(added or 0),
        last_pk=last.pk,
        last_hash=last.hash,
        key_id=key.key_id,
        prev_mac=previous.mac if previous is not None else GENESIS,
    )
    checkpoint.mac = key.mac(_message(checkpoint))
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _older(written: str, interval: timedelta) -> bool:
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:  # not as written here: the verifier will say so; anchor afresh
        return True
    if moment.tzinfo is None:
        return True
    return datetime.now(UTC) - moment >= interval


def maybe_checkpoint(session: Session, newest_pk: int) -> None:
    """Write a checkpoint if the session's policy makes one due after record ``newest_pk``."""
    policy = session.info.get(POLICY_INFO)
    if not isinstance(policy, CheckpointPolicy):
        return
    previous = _newest(session)
    if previous is not None:
        # Keys only grow (append-only table), so the difference bounds the records added.
        due_by_count = newest_pk - previous.last_pk >= policy.every
        if not due_by_count and not _older(previous.written, policy.interval):
            return
    checkpoint = write_checkpoint(session, policy.key)
    if checkpoint is not None and policy.log is not None:
        session.info.setdefault(PENDING_INFO, []).append(log_entry(session, checkpoint))


def _after_commit(session: Session) -> None:
    policy = session.info.get(POLICY_INFO)
    pending = session.info.get(PENDING_INFO)
    if pending and isinstance(policy, CheckpointPolicy) and policy.log is not None:
        flush_pending(policy.log, pending)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_INFO, None)


def install_log_hooks(factory: sessionmaker[Session]) -> None:
    """Append each committed transaction's checkpoints to the log (once per factory: ``Store``;
    a session without a policy queues nothing)."""
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """The checkpoints' verdict.  ``checked`` is False without a usable key (``unchecked``
    says why); ``failed_checkpoint`` and ``problem`` name the first checkpoint that fails."""

    checkpoints: int
    checked: bool
    failed_checkpoint: int | None = None
    problem: str | None = None
    unchecked: str | None = None
    #: Records after the newest checkpoint's (protected by the chain alone until the next).
    after_newest: int = 0
    newest_written: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The chain's and the checkpoints' verdicts together."""

    chain: ChainCheck
    anchor: AnchorCheck

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.anchor.ok


def _signature_problem(
    checkpoint: AuditCheckpoint, key: AuditKey, previous_mac: str, previous_pk: int | None
) -> str | None:
    where = f"checkpoint {checkpoint.pk} (written {checkpoint.written})"
    if checkpoint.key_id != key.key_id:
        return (
            f"{where} was written with another key (key id {checkpoint.key_id}; the key file's "
            f"is {key.key_id})"
        )
    if not hmac.compare_digest(key.mac(_message(checkpoint)), checkpoint.mac):
        return f"{where} does not match its keyed signature: altered or forged"
    if checkpoint.prev_mac != previous_mac:
        after = f"checkpoint {previous_pk}" if previous_pk is not None else "the first"
        return f"{where} does not follow {after}: a checkpoint was removed"
    return None


def verify_audit(
    records: Iterable[AuditRecord],
    checkpoints: Iterable[AuditCheckpoint],
    key: AuditKey | None,
    *,
    key_problem: str | None = None,
    logged: Iterable[Mapping[str, object]] = (),
) -> AuditCheck:
    """Walk the chain (records in id order) and check every checkpoint (in id order) against
    it: its signature under ``key``, its link to the previous checkpoint, and that the chain
    still holds, at the checkpoint's record, the same number of records and the same hash.

    Without ``key`` the chain is checked alone and ``key_problem`` says why.  ``logged``: the
    checkpoint log's entries (``_checkpoint_log``); each of this trail's must be in the database.
    """
    anchors = list(checkpoints)
    chain_problem: ChainCheck | None = None
    anchor_problem: tuple[int, str] | None = None
    previous_mac, previous_pk = GENESIS, None
    previous_hash, count, last_pk = GENESIS, 0, 0
    root: str | None = None
    index = 0
    if key is not None:
        for checkpoint in anchors:
            problem = _signature_problem(checkpoint, key, previous_mac, previous_pk)
            if problem is not None:
                anchor_problem = (checkpoint.pk, problem)
                break
            previous_mac, previous_pk = checkpoint.mac, checkpoint.pk
    by_record = sorted(anchors, key=lambda c: (c.last_pk, c.pk))
    for record in records:
        count += 1
        last_pk = record.pk
        if root is None:
            root = record.hash
        if chain_problem is None:
            if record.prev_hash != previous_hash:
                chain_problem = ChainCheck(
                    count, record.pk, "previous-hash link does not match (removed?)"
                )
            elif record_hash(record, previous_hash) != record.hash:
                chain_problem = ChainCheck(
                    count, record.pk, "content does not match its hash (altered)"
                )
        previous_hash = record.hash
        while index < len(by_record) and by_record[index].last_pk <= record.pk:
            checkpoint = by_record[index]
            index += 1
            if key is None or anchor_problem is not None:
                continue
            where = f"checkpoint {checkpoint.pk} (written {checkpoint.written})"
            if checkpoint.last_pk < record.pk:
                anchor_problem = (
                    checkpoint.pk,
                    f"{where} anchored record {checkpoint.last_pk}, which is no longer in the "
                    "chain: records were removed",
                )
            elif checkpoint.last_hash != record.hash:
                anchor_problem = (
                    checkpoint.pk,
                    f"{where} anchored record {record.pk} with another hash: the chain was "
                    "rewritten and re-hashed",
                )
            elif checkpoint.records != count:
                anchor_problem = (
                    checkpoint.pk,
                    f"{where} anchored {checkpoint.records} records up to record {record.pk}; "
                    f"the chain now has {count} there: records were removed or inserted",
                )
    chain = chain_problem or ChainCheck(count)
    if key is not None and anchor_problem is None and index < len(by_record):
        checkpoint = by_record[index]
        anchor_problem = (
            checkpoint.pk,
            f"checkpoint {checkpoint.pk} (written {checkpoint.written}) anchored "
            f"{checkpoint.records} records up to record {checkpoint.last_pk}, but the chain "
            f"ends at record {last_pk} ({count} records): records were removed from its end",
        )
    if anchor_problem is None:
        anchor_problem = logged_problem(logged, root, {c.pk: c.mac for c in anchors})
    newest = anchors[-1] if anchors else None
    after = count - newest.records if newest is not None else count
    anchor = AnchorCheck(
        checkpoints=len(anchors),
        checked=key is not None,
        failed_checkpoint=anchor_problem[0] if anchor_problem else None,
        problem=anchor_problem[1] if anchor_problem else None,
        unchecked=None if key is not None else key_problem,
        after_newest=max(after, 0),
        newest_written=newest.written if newest is not None else None,
    )
    return AuditCheck(chain, anchor)


def audit_check(
    session: Session, key: AuditKey | None, key_problem: str | None, log: Path | None = None
) -> AuditCheck:
    """:func:`verify_audit` over the session's database (and the checkpoint log at ``log``)."""
    records = session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
    checkpoints = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.pk)).scalars()
    logged = read_log(log) if log is not None else []
    return verify_audit(records, checkpoints, key, key_problem=key_problem, logged=logged)
