"""The registry and policy derived from the chain: records written around the checks don't count.

A writer with access to the store can append any record (``Store.append``).
These tests append hostile records directly and check the derived ledger
ignores them and says why — the verifier's view, not the CLI's.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cmlops.errors import PolicyError, SigningError
from cmlops.store import open_store
from cmlops.store.chain import utc_timestamp
from cmlops.trust.admin import FAR, change_policy, register_key, revoke_key
from cmlops.trust.ed25519 import sign_document
from cmlops.trust.keys import generate_key_file, make_request
from cmlops.trust.ledger import load_ledger
from cmlops.trust.policy import CHANGE_CONTEXT, change_document, normalise_policy
from cmlops.trust.registry import registration_payload
from tests.trust.roles import acting_as

PASS = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / ".cmlops"


def as_user(home: Path, user: str):
    return acting_as(home, user)


def key_for(tmp_path: Path, user: str, name: str = ""):
    return generate_key_file(user, PASS, name=name or user.title(), path=tmp_path / f"{user}.json")


def hostile_registration(store, request: dict) -> None:
    """Append a key.registered record without any of register_key's checks."""
    now = store.clock()
    payload = registration_payload(
        request,
        registered_by=store.actor,
        valid_from=utc_timestamp(now),
        valid_until=utc_timestamp(now + timedelta(days=1)),
    )
    store.append("key.registered", "signing-key", request["key_id"], payload, reason="x")


@pytest.mark.req("REQ-SIG-006")
def test_only_the_user_or_an_admin_registers_a_key(home: Path, tmp_path: Path) -> None:
    bob_key = key_for(tmp_path, "bob")
    with as_user(home, "mallory") as store:
        with pytest.raises(SigningError, match="may not register a key for 'bob'"):
            register_key(store, bob_key.request)
        assert store.records(action="key.register_refused")[0].actor == "mallory"
        hostile_registration(store, bob_key.request)  # around the checks
        ledger = load_ledger(store)
    assert bob_key.key_id not in ledger.registry.keys
    assert "'mallory' may not register a key for 'bob'" in ledger.problems[0]


@pytest.mark.req("REQ-SIG-006")
def test_a_request_altered_after_signing_does_not_count(home: Path, tmp_path: Path) -> None:
    key = key_for(tmp_path, "bob")
    altered = {**key.request, "name": "Robert Boss"}
    with as_user(home, "bob") as store:
        with pytest.raises(SigningError, match="proof of possession does not verify"):
            register_key(store, altered)
        hostile_registration(store, altered)
        ledger = load_ledger(store)
    assert not ledger.registry.keys and "proof of possession" in ledger.problems[0]


@pytest.mark.req("REQ-SIG-006")
def test_rotation_retires_and_revocation_ends_a_key(home: Path, tmp_path: Path) -> None:
    first = key_for(tmp_path, "bob")
    second = generate_key_file("bob", PASS, name="Bob", path=tmp_path / "bob2.json")
    with as_user(home, "bob") as store:
        one = register_key(store, first.request)
        two = register_key(store, second.request)
        assert [r.action for r in store.records(action="key.*")] == [
            "key.registered",
            "key.retired",
            "key.registered",
        ]
        with pytest.raises(SigningError, match="already registered"):
            register_key(store, first.request)
        ledger = load_ledger(store)
        old, new = ledger.registry.keys[first.key_id], ledger.registry.keys[second.key_id]
        assert old.problem_at(one.seq + 1, old.valid_from) == ""
        assert "was retired" in old.problem_at(two.seq + 1, old.valid_from)
        assert new.problem_at(two.seq + 1, new.valid_from) == ""
        assert "expired on" in new.problem_at(FAR, new.valid_until)
        assert "not yet registered" in new.problem_at(two.seq, new.valid_from)
        with pytest.raises(SigningError, match="needs a reason"):
            revoke_key(store, second.key_id, reason=" ")
    with as_user(home, "mallory") as store:
        with pytest.raises(SigningError, match="may not revoke"):
            revoke_key(store, second.key_id, reason="spite")
        payload = {"user_id": "bob", "key_id": second.key_id}
        store.append("key.revoked", "signing-key", second.key_id, payload, reason="spite")
        assert load_ledger(store).registry.keys[second.key_id].ended_seq is None
    with as_user(home, "bob") as store:
        revoke_key(store, second.key_id, reason="laptop lost")
        key = load_ledger(store).registry.keys[second.key_id]
    assert key.ended_how == "revoked" and "laptop lost" in key.problem_at(FAR, key.valid_from)


@pytest.mark.req("REQ-SIG-007")
def test_policy_changes_need_an_admin_signature_and_the_current_policy(
    home: Path, tmp_path: Path
) -> None:
    alice, bob = key_for(tmp_path, "alice"), key_for(tmp_path, "bob")
    with as_user(home, "alice") as store:
        register_key(store, alice.request)
        with pytest.raises(PolicyError, match="no policy yet"):
            change_policy(store, normalise_policy({"roles": {"admin": ["alice"]}}),
                          key=alice, passphrase=PASS, reason="r")  # fmt: skip
        with pytest.raises(SigningError, match="wrong passphrase"):
            change_policy(store, None, key=alice, passphrase="nope-nope", reason="")
        first = change_policy(store, None, key=alice, passphrase=PASS, reason="")
    with as_user(home, "bob") as store:
        register_key(store, bob.request)
        grab = normalise_policy({"roles": {"admin": ["alice", "bob"]}})
        with pytest.raises(PolicyError, match="'bob' is not an admin"):
            change_policy(store, grab, key=bob, passphrase=PASS, reason="coup")
        # bob writes the record himself, signed with his own registered key
        change = change_document(
            grab, store_id=store.store_id, previous={"seq": first.seq, "hash": first.hash}
        )
        private = Ed25519PrivateKey.generate()
        payload = {"change": change, "user_id": "bob", "key_id": bob.key_id,
                   "signature": sign_document(private, CHANGE_CONTEXT, change)}  # fmt: skip
        store.append("policy.changed", "policy", "policy", payload, reason="coup")
        # and replays alice's own first policy record
        store.append("policy.changed", "policy", "policy", first.payload_dict(), reason="replay")
        ledger = load_ledger(store)
    assert [v.seq for v in ledger.policies.versions] == [first.seq]
    assert "'bob' was not an admin" in ledger.problems[0]
    assert "stale, replayed or from another store" in ledger.problems[1]
    assert [r.actor for r in store_records(home, "policy.change_refused")] == ["alice"] * 2 + [
        "bob"
    ]


def store_records(home: Path, action: str):
    with open_store(home=home) as store:
        return store.records(action=action)


@pytest.mark.req("REQ-SIG-006")
def test_an_old_key_request_is_refused_cleanly(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    request = make_request(private, "bob", "Bob", "2026-01-01T00:00:00+00:00")
    request["algorithm"] = "RSA"
    with as_user(tmp_path / ".cmlops", "bob") as store:
        with pytest.raises(SigningError, match="unsupported key algorithm"):
            register_key(store, request)


@pytest.mark.req("REQ-SIG-006")
def test_an_admin_registers_a_key_its_owner_generated(home: Path, tmp_path: Path) -> None:
    alice, bob = key_for(tmp_path, "alice"), key_for(tmp_path, "bob")
    with as_user(home, "alice") as store:
        register_key(store, alice.request)
        with pytest.raises(SigningError, match="may not register a key for 'bob'"):
            register_key(store, bob.request)  # no policy yet: alice is nobody's admin
        change_policy(store, None, key=alice, passphrase=PASS, reason="")
        with pytest.raises(SigningError, match="the key request is for user 'bob', not 'rob'"):
            register_key(store, bob.request, user_id="rob")
        record = register_key(store, bob.request, user_id="bob", valid_days=30)
        key = load_ledger(store).registry.keys[bob.key_id]
    assert key.user_id == "bob" and key.registered_by == "alice" and key.seq == record.seq
    assert key.valid_until > key.valid_from
