"""Keyed checkpoints of the audit chain (issue 18, point 10): the anchor that shows a truncated
tail or a chain rewritten and re-hashed by someone who can write the database but does not hold
the key (docs/decisions/0062-audit-checkpoints.md).  On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crswatch.store import (
    AuditCheckpoint,
    AuditKey,
    AuditKeyError,
    AuditRecord,
    CheckpointPolicy,
    Store,
    append_audit,
    audit_check,
    create_audit_key,
    ensure_audit_key,
    load_audit_key,
    write_checkpoint,
)
from crswatch.store._audit import GENESIS, record_hash
from crswatch.store._checkpoint_log import read_log


def _append(store: Store, count: int, actor: str = "nurse") -> None:
    for _ in range(count):
        with store.transaction() as session:
            append_audit(session, actor=actor, role="viewer", action="read",
                         resource="patient", patient_id="P-1", outcome="success")  # fmt: skip


def _unlock(store: Store) -> None:
    """What a database owner can do: lift the append-only triggers."""
    with store.transaction() as session:
        if store.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            session.execute(
                text("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only")
            )
        else:
            for table in ("audit_log", "audit_checkpoints"):
                for verb in ("update", "delete"):
                    session.execute(text(f"DROP TRIGGER {table}_no_{verb}"))


def _check(store: Store, key: AuditKey | None, problem: str | None = None):  # type: ignore[no-untyped-def]
    with store.transaction() as session:
        return audit_check(session, key, problem)


@pytest.fixture
def key(tmp_path: Path) -> AuditKey:
    return create_audit_key(tmp_path / "keys" / "audit-checkpoint.key")


@pytest.fixture
def anchored(store: Store, key: AuditKey) -> Store:
    """The store with checkpoints every 5 records (and at most an hour apart) and 12 records:
    checkpoints at records 1, 6 and 11."""
    store.anchor_audit(CheckpointPolicy(key, every=5, interval=timedelta(hours=1)))
    _append(store, 12)
    return store


def _checkpoints(store: Store) -> list[AuditCheckpoint]:
    with store.transaction() as session:
        return list(session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.pk)).scalars())


def test_checkpoints_are_written_every_n_records_and_the_intact_chain_passes(
    anchored: Store, key: AuditKey
) -> None:
    written = _checkpoints(anchored)
    assert [(c.last_pk, c.records) for c in written] == [(1, 1), (6, 6), (11, 11)]
    assert [c.prev_mac for c in written[1:]] == [c.mac for c in written[:-1]]
    assert written[0].prev_mac == GENESIS and {c.key_id for c in written} == {key.key_id}
    check = _check(anchored, key)
    assert check.ok and check.chain.records == 12
    assert (check.anchor.checked, check.anchor.checkpoints, check.anchor.after_newest) == (
        True, 3, 1,
    )  # fmt: skip


def test_truncating_the_tail_after_a_checkpoint_fails_naming_the_checkpoint(
    anchored: Store, key: AuditKey
) -> None:
    _unlock(anchored)
    with anchored.transaction() as session:
        session.execute(text("DELETE FROM audit_log WHERE pk > 8"))
    check = _check(anchored, key)
    # The chain alone cannot tell: what is left still links from the first record.
    assert check.chain.ok and check.chain.records == 8
    newest = _checkpoints(anchored)[-1]
    assert not check.ok and check.anchor.failed_checkpoint == newest.pk
    assert check.anchor.problem is not None
    assert f"checkpoint {newest.pk} (written {newest.written})" in check.anchor.problem
    assert "removed from its end" in check.anchor.problem


def test_truncating_records_and_their_checkpoints_is_caught_by_the_checkpoint_link(
    anchored: Store, key: AuditKey
) -> None:
    _unlock(anchored)
    middle = _checkpoints(anchored)[1]
    with anchored.transaction() as session:
        session.execute(text("DELETE FROM audit_checkpoints WHERE pk = :pk"), {"pk": middle.pk})
    check = _check(anchored, key)
    assert check.anchor.failed_checkpoint == middle.pk + 1
    assert "a checkpoint was removed" in (check.anchor.problem or "")


def _rewrite(store: Store, target_pk: int, actor: str) -> None:
    """Alter one record and re-hash the whole chain, as someone without the key can."""
    with store.transaction() as session:
        records = list(session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars())
        previous = GENESIS
        for record in records:
            if record.pk == target_pk:
                record.actor = actor
            record.prev_hash = previous
            record.hash = record_hash(record, previous)
            previous = record.hash


def test_rewriting_a_record_and_rehashing_the_chain_fails(anchored: Store, key: AuditKey) -> None:
    _unlock(anchored)
    _rewrite(anchored, 3, "mallory")
    check = _check(anchored, key)
    assert check.chain.ok  # re-hashed throughout: the unkeyed chain holds
    second = _checkpoints(anchored)[1]  # the first anchored record 1, before the change
    assert not check.ok and check.anchor.failed_checkpoint == second.pk
    assert "rewritten and re-hashed" in (check.anchor.problem or "")


def test_a_checkpoint_forged_without_the_key_fails(anchored: Store, key: AuditKey) -> None:
    _unlock(anchored)
    _rewrite(anchored, 3, "mallory")
    # The forger also rewrites the checkpoints to the new hashes, with a key of their own.
    forger = AuditKey(b"\x01" * 32, Path("forged"))
    with anchored.transaction() as session:
        previous = GENESIS
        for checkpoint in session.execute(
            select(AuditCheckpoint).order_by(AuditCheckpoint.pk)
        ).scalars():
            record = session.get(AuditRecord, checkpoint.last_pk)
            assert record is not None
            checkpoint.last_hash = record.hash
            checkpoint.prev_mac = previous
            checkpoint.mac = forger.mac(_message(checkpoint))
            previous = checkpoint.mac
    check = _check(anchored, key)
    assert not check.ok and "does not match its keyed signature" in (check.anchor.problem or "")
    first = _checkpoints(anchored)[0]
    assert check.anchor.failed_checkpoint == first.pk


def _message(checkpoint: AuditCheckpoint) -> str:
    from crswatch.store._checkpoint import _message as message

    return message(checkpoint)


def test_without_the_key_the_chain_is_checked_and_the_checkpoints_are_named_unchecked(
    anchored: Store,
) -> None:
    check = _check(anchored, None, "no audit key file at /nowhere")
    assert check.chain.ok and check.anchor.ok and not check.anchor.checked
    assert check.anchor.checkpoints == 3
    assert check.anchor.unchecked == "no audit key file at /nowhere"


def test_a_checkpoint_is_written_in_the_transaction_of_its_record(
    store: Store, key: AuditKey
) -> None:
    store.anchor_audit(CheckpointPolicy(key, every=1))
    with pytest.raises(RuntimeError), store.transaction() as session:
        append_audit(session, actor="a", role="viewer", action="read", resource="patient",
                     patient_id=None, outcome="success")  # fmt: skip
        assert session.execute(select(AuditCheckpoint)).first() is not None
        raise RuntimeError("rolled back")
    assert _checkpoints(store) == []
    _append(store, 1)
    assert [c.records for c in _checkpoints(store)] == [1]
    assert _check(store, key).ok


def test_an_interval_makes_a_checkpoint_due_before_the_count(store: Store, key: AuditKey) -> None:
    store.anchor_audit(CheckpointPolicy(key, every=1000, interval=timedelta(0)))
    _append(store, 3)
    assert [c.records for c in _checkpoints(store)] == [1, 2, 3]


def test_on_demand_checkpoint(store: Store, key: AuditKey) -> None:
    with store.transaction() as session:
        assert write_checkpoint(session, key) is None  # nothing to anchor yet
    _append(store, 4)
    with store.transaction() as session:
        first = write_checkpoint(session, key)
        again = write_checkpoint(session, key)  # nothing new: the same checkpoint
    assert first is not None and again is not None and again.pk == first.pk
    assert (first.records, first.last_pk) == (4, 4)
    assert _check(store, key).ok


def test_the_checkpoint_tables_are_append_only(anchored: Store) -> None:
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE audit_checkpoints SET records = 1", "DELETE FROM audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"), anchored.transaction() as session:
            session.execute(text(statement))


def test_key_files(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "data" / "audit-checkpoint.key"
    with pytest.raises(AuditKeyError, match="does not exist"):
        load_audit_key(path)
    with store.transaction() as session:
        made = ensure_audit_key(session, path)  # no checkpoint yet: made on the spot
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_audit_key(path) == made and len(made.secret) == 32
    assert made.secret.hex() not in repr(made)
    with pytest.raises(AuditKeyError, match="already exists"):
        create_audit_key(path)
    path.chmod(0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        load_audit_key(path)
    path.chmod(0o600)
    path.write_text("abcd\n")
    with pytest.raises(AuditKeyError, match="32 random bytes"):
        load_audit_key(path)
    path.write_text("not hex\n")
    with pytest.raises(AuditKeyError, match="cannot be read"):
        load_audit_key(path)


def test_a_lost_key_is_not_silently_replaced(anchored: Store, key: AuditKey) -> None:
    key.path.unlink()
    with pytest.raises(AuditKeyError, match="restore that key file"), anchored.transaction() as s:
        ensure_audit_key(s, key.path)
    assert not key.path.exists()


def test_policy_from_the_environment(key: AuditKey) -> None:
    policy = CheckpointPolicy.from_env(
        key, {"CRSWATCH_AUDIT_CHECKPOINT_EVERY": "20", "CRSWATCH_AUDIT_CHECKPOINT_MINUTES": "5"}
    )
    assert (policy.every, policy.interval) == (20, timedelta(minutes=5))
    assert CheckpointPolicy.from_env(key, {}).every == 100
    with pytest.raises(AuditKeyError, match="CRSWATCH_AUDIT_CHECKPOINT_EVERY='0'"):
        CheckpointPolicy.from_env(key, {"CRSWATCH_AUDIT_CHECKPOINT_EVERY": "0"})


# --------------------------------------------------------- the checkpoint log outside the database


def test_checkpoints_removed_with_their_records_are_caught_by_the_log(
    store: Store, key: AuditKey
) -> None:
    log = key.path.parent / "audit-checkpoints.log"
    store.anchor_audit(CheckpointPolicy(key, every=5, log=log))
    _append(store, 12)
    entries = read_log(log)
    assert [(e["checkpoint"], e["records"], e["last_pk"]) for e in entries] == [
        (c.pk, c.records, c.last_pk) for c in _checkpoints(store)
    ]
    assert log.stat().st_mode & 0o777 == 0o600
    # Someone with the database but not the key removes the newest checkpoint and the records
    # it covered: what is left agrees with itself.
    _unlock(store)
    newest = _checkpoints(store)[-1]
    with store.transaction() as session:
        session.execute(text("DELETE FROM audit_checkpoints WHERE pk = :pk"), {"pk": newest.pk})
        session.execute(text("DELETE FROM audit_log WHERE pk > 8"))
    assert _check(store, key).ok  # the hole the log closes
    with store.transaction() as session:
        check = audit_check(session, key, None, log)
    assert not check.ok and check.anchor.failed_checkpoint == newest.pk
    assert "is missing from the database" in (check.anchor.problem or "")
    assert "kept in the checkpoint log" in (check.anchor.problem or "")


def test_the_log_holds_only_committed_checkpoints_of_its_own_trail(
    store: Store, key: AuditKey
) -> None:
    log = key.path.parent / "audit-checkpoints.log"
    store.anchor_audit(CheckpointPolicy(key, every=1, log=log))
    with pytest.raises(RuntimeError), store.transaction() as session:
        append_audit(session, actor="a", role="viewer", action="read", resource="patient",
                     patient_id=None, outcome="success")  # fmt: skip
        raise RuntimeError("rolled back")
    assert read_log(log) == []
    _append(store, 2)
    assert [e["records"] for e in read_log(log)] == [1, 2]
    # Another database's trail in the same log (the demo's, say) is not this one's concern;
    # a line cut short by a crash is skipped.
    with log.open("a") as handle:
        handle.write('{"root":"other","checkpoint":99,"mac":"x"}\n{"root":"trunc')
    with store.transaction() as session:
        assert audit_check(session, key, None, log).ok
