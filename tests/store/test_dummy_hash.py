"""The unknown-user hash is written out (not hashed at import) and must stay a real one."""

from __future__ import annotations

from crswatch.store import _users


def test_the_dummy_hash_verifies_with_the_pinned_parameters() -> None:
    # Verifying it costs what verifying a user's hash costs: same algorithm and parameters.
    assert _users._hasher.verify(_users._DUMMY_HASH, "not-a-password")
    assert not _users._hasher.check_needs_rehash(_users._DUMMY_HASH)
