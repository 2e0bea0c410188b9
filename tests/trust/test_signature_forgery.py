"""One test per forgery or impersonation class of issue 9, each person in their own process.

Every attack here was accepted by cmlops before signatures were bound to the
key registry (a package verified with the public key it carried, a key's user
id, name and expiry came from the key file). Each must now be a named failure:
exit 1 for verification, exit 2 (and a refusal record) for a refused signing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cmlops.cli.package import package as package_cli
from cmlops.reports.manifest import read_manifest
from cmlops.reports.signature_page import signature_page
from cmlops.reports.signatures import CONTEXT, signed_document, signed_payload
from cmlops.store.chain import seal
from cmlops.trust.ed25519 import key_id_of, public_key_text, sign_document
from cmlops.trust.keys import make_request, read_key_file, unlock
from tests.trust.world import PASSPHRASE, World, build_world

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("org"))


# -- what an attacker does to a package's files -------------------------------------------


def load(package: Path) -> dict:
    return json.loads((package / "signatures.json").read_text())


def save(package: Path, doc: dict) -> None:
    """Write forged signatures *and* a matching page, as a careful forger would."""
    (package / "signatures.json").write_text(json.dumps(doc, indent=2))
    manifest, _raw = read_manifest(package)
    (package / "signatures.html").write_text(signature_page(manifest, doc["signatures"]))


def entry_of(doc: dict, meaning: str) -> dict:
    return next(e for e in doc["signatures"] if e["meaning"] == meaning)


def fabricate(doc: dict, actor: str, action: str, object_type: str, object_id: str, payload):
    """A self-consistent record (its hash recomputes) that the store never wrote."""
    records = doc["evidence"]["records"]
    last = max(r["seq"] for r in records)
    record = seal(last + 500, records[-1]["ts"], actor, action, object_type, object_id,
                  payload, "forged", "f" * 64)  # fmt: skip
    records.append(record.to_dict())
    return record


def forge_signature(doc: dict, private, *, user: str, name: str, meaning: str) -> dict:
    """Add a signature entry signed by ``private`` with a fabricated package.signed record."""
    base = doc["signatures"][0]
    entry = {
        "package_id": base["package_id"],
        "manifest_sha256": base["manifest_sha256"],
        "user_id": user,
        "name": name,
        "meaning": meaning,
        "justification": "",
        "key_id": key_id_of(public_key_text(private)),
        "algorithm": "Ed25519",
    }
    entry["signature"] = sign_document(private, CONTEXT, signed_document(entry))
    record = fabricate(doc, user, "package.signed", "package", entry["package_id"],
                       signed_payload(entry))  # fmt: skip
    entry.update(signed_at=record.ts, record={"seq": record.seq, "hash": record.hash})
    doc["signatures"].append(entry)
    return entry


def registrations(world: World, user: str) -> list[dict]:
    return [r for r in world.records("key.registered") if r["payload"]["user_id"] == user]


def verify(world: World, package: Path, *extra: str, code: int) -> str:
    """``package verify``: offline it needs no identity and runs in this process (faster)."""
    if extra:
        done = world.cli("erin", "package", "verify", package, *extra, code=code)
        return done.stdout + done.stderr
    result = CliRunner().invoke(package_cli, ["verify", str(package)])
    assert result.exit_code == code, result.output
    return result.output


def status(world: World, package: Path, code: int) -> str:
    done = world.cli("erin", "package", "status", package, code=code)
    return done.stdout + done.stderr


def refusals(world: World, actor: str, action: str = "package.sign_refused") -> list[dict]:
    return [r for r in world.records(action) if r["actor"] == actor]


# -- the approved package is sound ------------------------------------------------------------


@pytest.mark.req("REQ-SIG-006")
def test_the_signed_package_verifies_offline_and_against_the_store(world: World) -> None:
    package = world.packages["approved"]
    out = verify(world, package, code=0)
    assert "status approved" in out and out.count(": valid") == 3
    assert "signature evidence proven in the checkpoint" in out
    assert "to exclude a fabricated chain" in out  # offline, it says what it could not check
    assert "status approved" in verify(world, package, "--against-store", code=0)
    assert status(world, package, code=0).startswith("approved:")
    # a checkpoint the organisation kept after the signings lists them all
    kept = world.base / "kept-after-approval.json"
    world.cli("alice", "audit", "checkpoint", "--out", kept, "--passphrase-file",
              world.base / "secret.txt")  # fmt: skip
    out = verify(world, package, "--checkpoint", kept, code=0)
    assert "status approved" in out and "is not in the chain" not in out


# -- forgery and impersonation classes ------------------------------------------------------


@pytest.mark.req("REQ-SIG-006")
def test_throwaway_key_that_was_never_registered(world: World) -> None:
    package = world.copy("approved")
    doc = load(package)
    approval = entry_of(doc, "approved")
    throwaway = Ed25519PrivateKey.generate()
    approval["key_id"] = key_id_of(public_key_text(throwaway))
    approval["signature"] = sign_document(throwaway, CONTEXT, signed_document(approval))
    save(package, doc)
    assert "was never registered" in verify(world, package, code=1)
    assert status(world, package, code=1).startswith("INVALID:")


@pytest.mark.req("REQ-SIG-006")
def test_throwaway_key_with_fabricated_registration_is_caught_by_the_store(world: World) -> None:
    package = world.copy("pass")
    doc = load(world.packages["approved"])
    throwaway = Ed25519PrivateKey.generate()
    request = make_request(throwaway, "erin", "Erin Approver", "2026-01-01T00:00:00+00:00")
    payload = {k: request[k] for k in ("user_id", "name", "key_id", "public_key", "algorithm")}
    payload.update(valid_from="2000-01-01T00:00:00.000000+00:00",
                   valid_until="2999-01-01T00:00:00.000000+00:00",
                   registered_by="erin", request=request)  # fmt: skip
    fabricate(doc, "erin", "key.registered", "signing-key", request["key_id"], payload)
    forge_signature(doc, throwaway, user="erin", name="Erin Approver", meaning="approved")
    save(package, doc)
    out = verify(world, package, code=1)  # offline: the records are not in the signed checkpoint
    assert "are not in the chain the signing checkpoint signed (fabricated or altered)" in out
    out = verify(world, package, "--against-store", code=1)
    assert "is not the store's record at that seq (fabricated" in out
    assert status(world, package, code=1).startswith("INVALID:")


@pytest.mark.req("REQ-SIG-003")
def test_another_users_key(world: World) -> None:
    package = world.packages["spare"]
    # mallory holds erin's key file and passphrase: the key is erin's, mallory is not erin
    done = world.sign("mallory", package, "authored", "--key", world.key("erin"), code=2)
    assert "registered for 'erin', not for you ('mallory')" in done.stderr
    assert not (package / "signatures.json").exists()
    assert (
        refusals(world, "mallory")[-1]["payload"]["key_id"]
        == read_key_file(world.key("erin")).key_id
    )
    # mallory cannot register a key for erin either
    done = world.cli("mallory", "keys", "generate", "--user", "erin", "--name", "Erin Approver",
                     "--out", world.base / "fake-erin.json", "--passphrase-file",
                     world.base / "secret.txt", code=2)  # fmt: skip
    assert "may not generate a key for 'erin'" in done.stderr
    assert not (world.base / "fake-erin.json").exists()
    # nor register one made elsewhere (only erin or an admin may)
    made = world.cli("mallory", "keys", "generate", "--no-register", "--user", "erin", "--name",
                     "Erin Approver", "--out", world.base / "fake-erin.json", "--passphrase-file",
                     world.base / "secret.txt")  # fmt: skip
    assert "written (not registered)" in made.stdout
    done = world.cli("mallory", "keys", "register", "--public-key", world.base / "fake-erin.json",
                     "--user", "erin", code=2)  # fmt: skip
    assert "'mallory' may not register a key for 'erin'" in done.stderr
    assert refusals(world, "mallory", "key.register_refused")
    # an entry that claims bob's key for mallory is a named failure offline
    forged = world.copy("approved")
    doc = load(forged)
    entry_of(doc, "reviewed")["user_id"] = "mallory"
    save(forged, doc)
    assert "is registered for 'bob', not 'mallory'" in verify(world, forged, code=1)


@pytest.mark.req("REQ-SIG-003")
def test_a_claimed_name_is_not_an_identity(world: World) -> None:
    """mallory sets CMLOPS_USER=erin; the store still authenticates her as mallory."""
    spare = world.packages["spare"]
    done = world.cli("mallory", "package", "sign", spare, "--meaning", "approved", "--key",
                     world.key("erin"), "--passphrase-file", world.base / "secret.txt",
                     code=2, claim="erin")  # fmt: skip
    assert "registered for 'erin', not for you ('mallory')" in done.stderr
    refused = refusals(world, "mallory")[-1]
    assert refused["context"]["claimed_actor"] == "erin" and refused["actor"] == "mallory"
    done = world.cli("mallory", "package", "sign", spare, "--meaning", "approved", "--user",
                     "erin", "--passphrase-file", world.base / "secret.txt", code=2,
                     claim="erin")  # fmt: skip
    assert "you act as 'mallory' in this store, not 'erin'" in done.stderr
    assert not (spare / "signatures.json").exists()


@pytest.mark.req("REQ-SIG-003", "REQ-SIG-006")
def test_edited_expiry_changes_nothing(world: World) -> None:
    # a key file has no expiry a verifier reads; the registry's does not move
    key_doc = json.loads(world.key("bob").read_text())
    key_doc["expires"] = "2099-12-31T00:00:00+00:00"
    key_doc["request"]["created"] = "2099-12-31T00:00:00+00:00"  # breaks the proof of possession
    edited = world.base / "bob-edited.json"
    edited.write_text(json.dumps(key_doc))
    done = world.sign("bob", world.packages["spare"], "reviewed", "--key", edited, code=2)
    assert "damaged key file" in done.stderr
    # signing after the registered expiry is refused (the store's clock, 3 years on)
    script = (
        "import sys; from datetime import datetime, timedelta, timezone\n"
        "from cmlops.store import open_store\nfrom cmlops.reports.signing import sign_package\n"
        "later = lambda: datetime.now(timezone.utc) + timedelta(days=1100)\n"
        "store = open_store(clock=later)\n"
        "try:\n"
        "    sign_package(sys.argv[1], meaning='reviewed', passphrase=sys.argv[2], store=store)\n"
        "except Exception as exc:\n    print(exc)\n"
    )
    package = world.packages["spare"]
    done = subprocess.run([sys.executable, "-c", script, str(package), PASSPHRASE],
                          env=world.env("bob"), capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert "expired on" in done.stdout and "registered validity" in done.stdout
    assert not (package / "signatures.json").exists()
    reasons = [r["reason"] for r in refusals(world, "bob")]
    assert any("damaged key file" in r for r in reasons)  # each refusal is recorded
    assert any("expired on" in r for r in reasons)
    # the registration carried by a package cannot be edited either
    forged = world.copy("approved")
    doc = load(forged)
    registration = next(
        r for r in doc["evidence"]["records"]
        if r["action"] == "key.registered" and r["payload"]["user_id"] == "erin"
    )  # fmt: skip
    registration["payload"]["valid_until"] = "2999-01-01T00:00:00.000000+00:00"
    save(forged, doc)
    out = verify(world, forged, code=1)
    assert "its hash does not match its content (the record was altered)" in out
    assert "was never registered" in out


@pytest.mark.req("REQ-SIG-001", "REQ-SIG-006")
def test_changed_printed_name(world: World) -> None:
    done = world.sign("carol", world.packages["spare"], "authored", "--name", "Dr. Carol", code=2)
    assert "is not your registered name 'Carol Author'" in done.stderr
    forged = world.copy("approved")
    doc = load(forged)
    entry_of(doc, "approved")["name"] = "Erin Q. Approver, MD"
    save(forged, doc)
    out = verify(world, forged, code=1)
    assert "printed name 'Erin Q. Approver, MD' is not the registered name 'Erin Approver'" in out


@pytest.mark.req("REQ-SIG-002")
def test_stripped_signatures(world: World) -> None:
    whole = world.copy("approved")
    (whole / "signatures.json").unlink()
    (whole / "signatures.html").unlink()
    assert "status executed" in verify(world, whole, code=0)  # offline nothing is left to see
    out = verify(world, whole, "--against-store", code=1)
    assert out.count("signature stripped") == 3
    assert status(world, whole, code=1).startswith("INVALID:")
    # removing one entry but keeping the evidence: caught offline
    partial = world.copy("approved")
    doc = load(partial)
    doc["signatures"] = [e for e in doc["signatures"] if e["meaning"] != "approved"]
    save(partial, doc)
    out = verify(world, partial, code=1)
    assert "signature stripped: the chain records approved by 'erin'" in out
    # ... and the signing record too: the signed checkpoint still lists the signing
    records = doc["evidence"]["records"]
    doc["evidence"]["records"] = [r for r in records if r["action"] != "package.signed"
                                  or r["payload"]["meaning"] != "approved"]  # fmt: skip
    save(partial, doc)
    out = verify(world, partial, code=1)
    assert "signature stripped: the chain records approved by 'erin'" in out


@pytest.mark.req("REQ-SIG-007")
def test_role_missing(world: World) -> None:
    package = world.packages["spare"]
    done = world.sign("mallory", package, "reviewed", code=2)
    assert "'mallory' does not hold the reviewer role" in done.stderr
    refused = refusals(world, "mallory")[-1]
    assert refused["payload"]["meaning"] == "reviewed" and "reviewer role" in refused["reason"]
    assert not (package / "signatures.json").exists()
    # mallory's own registered key on a fabricated signing record: still no role
    forged = world.copy("approved")
    doc = load(forged)
    doc["evidence"]["records"] += registrations(world, "mallory")  # real, from the store
    own = unlock(read_key_file(world.key("mallory")), PASSPHRASE)
    forge_signature(doc, own, user="mallory", name="Mallory Outsider", meaning="reviewed")
    save(forged, doc)
    assert "'mallory' does not hold the reviewer role" in verify(world, forged, code=1)


@pytest.mark.req("REQ-SIG-007")
def test_author_may_not_review_own_run(world: World) -> None:
    secret = world.base / "secret.txt"
    world.cli("alice", "policy", "grant", "reviewer", "carol", "--reason", "test",
              "--passphrase-file", secret)  # fmt: skip
    try:
        done = world.sign("carol", world.packages["spare"], "reviewed", code=2)
        assert "'carol' ran this report and may not review it" in done.stderr
        forged = world.copy("approved")
        doc = load(forged)
        carried = {r["seq"] for r in doc["evidence"]["records"]}
        doc["evidence"]["records"] += [  # the store's policy records since the package was signed
            r for r in world.records("policy.changed") if r["seq"] not in carried
        ]
        own = unlock(read_key_file(world.key("carol")), PASSPHRASE)
        forge_signature(doc, own, user="carol", name="Carol Author", meaning="reviewed")
        save(forged, doc)
        assert "'carol' ran this report and may not review it" in verify(world, forged, code=1)
    finally:
        world.cli("alice", "policy", "withdraw", "reviewer", "carol", "--reason", "test done",
                  "--passphrase-file", secret)  # fmt: skip


@pytest.mark.req("REQ-SIG-006")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000, "signatures.json is damaged"),
        ('{"signatures": [], "evidence": []}', "signatures.json is damaged"),
        ('{"schema": "cmlops.signatures/1", "signatures": [{}]}', "are not bound to registered"),
        (None, "malformed signature entry"),
    ],
)
def test_hostile_signature_files_are_reported_not_crashed(world: World, text, expected) -> None:
    package = world.copy("approved")
    if text is None:  # entries of every wrong shape
        doc = load(package)
        doc["signatures"] += ["x", 1, {"record": "seq"}, {"record": {"seq": "7"}}, {"name": []}]
        save(package, doc)
    else:
        (package / "signatures.json").write_text(text)
    out = verify(world, package, code=1)
    assert expected in out and "Traceback" not in out


# -- separation of duties, verdicts, revocation and rotation (one package's life) ---------------


@pytest.mark.req("REQ-SIG-005", "REQ-SIG-007")
def test_review_revocation_and_approval_with_deviation(world: World) -> None:
    secret = world.base / "secret.txt"
    package = world.packages["fail"]  # template echo_other, acceptance verdict FAIL
    rita_key = world.base / "keys" / "rita.json"
    world.cli("rita", "keys", "generate", "--name", "Rita Reviewer", "--out", rita_key,
              "--passphrase-file", secret)  # fmt: skip
    world.cli("alice", "policy", "grant", "reviewer", "rita", "--reason", "QA",
              "--passphrase-file", secret)  # fmt: skip
    world.sign("rita", package, "reviewed", "--key", rita_key)
    # the reviewer may not also approve, even holding the approver role
    world.cli("alice", "policy", "grant", "approver", "rita", "--reason", "QA",
              "--passphrase-file", secret)  # fmt: skip
    done = world.sign("rita", package, "approved-with-deviation", "--key", rita_key,
                      "--justification", "x", code=2)  # fmt: skip
    assert "reviewer and approver must be different people" in done.stderr
    # a revoked key signs nothing more; what it signed before stays valid
    world.cli("rita", "keys", "revoke", read_key_file(rita_key).key_id, "--reason", "laptop lost")
    done = world.sign("rita", world.packages["spare"], "reviewed", "--key", rita_key, code=2)
    assert "was revoked" in done.stderr and "laptop lost" in done.stderr
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1
    assert any("was revoked" in r["reason"] for r in refusals(world, "rita"))
    assert not (world.packages["spare"] / "signatures.json").exists()
    assert "reviewed by Rita Reviewer (rita)" in verify(world, package, code=0)
    # a FAIL verdict cannot be approved, only approved with a signed justification
    done = world.sign("erin", package, "approved", code=2)
    assert "verdict is FAIL: it cannot be approved" in done.stderr
    done = world.sign("erin", package, "approved-with-deviation", code=2)
    assert "needs a --justification" in done.stderr
    why = "Threshold miss accepted by the study team <see CAPA-17>"
    world.sign("erin", package, "approved-with-deviation", "--justification", why)
    assert "status approved-with-deviation" in verify(world, package, code=0)
    page = (package / "signatures.html").read_text()
    assert "Approved with deviation" in page and "&lt;see CAPA-17&gt;" in page
    assert "echo_other" in page and "FAIL" in page  # template and verdict named on the page
    # the justification is signed: changing it breaks the signature
    forged = world.copy("fail")
    doc = load(forged)
    entry_of(doc, "approved-with-deviation")["justification"] = "all fine"
    save(forged, doc)
    assert "signature does not verify with the registered key" in verify(world, forged, code=1)
    # rotation: a new key for rita retires the revoked one's successor slot
    world.cli("rita", "keys", "generate", "--name", "Rita Reviewer", "--out",
              world.base / "keys" / "rita2.json", "--passphrase-file", secret)  # fmt: skip
    listed = world.cli("alice", "keys", "list", "--user", "rita").stdout.splitlines()
    assert [line.split()[-5] for line in listed] == ["revoked", "active"]


@pytest.mark.req("REQ-SIG-003", "REQ-SIG-007")
def test_refused_attempts_are_recorded_and_leave_nothing_behind(world: World) -> None:
    spare, approved = world.packages["spare"], world.packages["approved"]
    before = (approved / "signatures.json").read_bytes()
    wrong = world.base / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    done = world.cli("bob", "package", "sign", spare, "--meaning", "reviewed",
                     "--passphrase-file", wrong, code=2)  # fmt: skip
    assert done.stderr.count("\n") == 1 and "wrong passphrase" in done.stderr
    assert not (spare / "signatures.json").exists() and not (spare / "signatures.html").exists()
    done = world.sign("erin", approved, "approved", code=2)
    assert "'erin' already signed this package as approved" in done.stderr
    assert (approved / "signatures.json").read_bytes() == before
    assert any("wrong passphrase" in r["reason"] for r in refusals(world, "bob"))
    assert any("already signed" in r["reason"] for r in refusals(world, "erin"))


@pytest.mark.req("REQ-SIG-007")
def test_bad_inputs_are_one_line_errors(world: World, tmp_path: Path) -> None:
    secret = world.base / "secret.txt"
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"schema": "cmlops.signing-key/2", "request": {')
    done = world.sign("bob", world.packages["spare"], "reviewed", "--key", corrupt, code=2)
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1
    assert "not a readable cmlops key file" in done.stderr
    assert any("not a readable cmlops key file" in r["reason"] for r in refusals(world, "bob"))
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("roles:\n  admin: [alice]\n  overlord: [mallory]\n")
    done = world.cli("alice", "policy", "apply", bad_policy, "--reason", "r",
                     "--passphrase-file", secret, code=2)  # fmt: skip
    assert "unknown role(s) overlord" in done.stderr
    done = world.cli("alice", "policy", "grant", "approver", "nobody", "--reason", "r",
                     "--passphrase-file", secret, code=2)  # fmt: skip
    assert "unknown user id 'nobody'" in done.stderr
    done = world.cli("bob", "policy", "grant", "approver", "bob", "--reason", "r",
                     "--passphrase-file", secret, code=2)  # fmt: skip
    assert "'bob' is not an admin" in done.stderr
    refused = world.records("policy.change_refused")
    assert {r["actor"] for r in refused} >= {"alice", "bob"}
    assert any("overlord" in r["reason"] for r in refused)


@pytest.mark.req("REQ-SIG-005")
def test_status_never_reports_approval_for_a_tampered_package(world: World) -> None:
    package = world.copy("approved")
    (package / "report.html").write_text("<p>all good</p>")
    out = status(world, package, code=1)
    assert out.startswith("INVALID:") and "modified: report.html" in out
    assert "status INVALID" in verify(world, package, code=1)


# -- supersession (changes the approved package's status: last) ------------------------------


@pytest.mark.req("REQ-SIG-005")
def test_supersession_needs_a_verified_successor(world: World) -> None:
    old = world.packages["approved"]

    def supersede(new: Path, *extra: str, code: int) -> str:
        done = world.cli("erin", "package", "status", old, "--superseded-by", new, *extra,
                         code=code)  # fmt: skip
        return done.stdout + done.stderr

    assert "run FAILED" in supersede(world.packages["failed"], code=2)
    tampered = world.copy("fail")
    (tampered / "results.json").write_text("{}")
    assert "fails verification" in supersede(tampered, code=2)
    assert "cannot supersede itself" in supersede(world.copy("approved"), code=2)
    out = supersede(world.packages["fail"], code=2)
    assert "comes from template 'echo_other', not 'echo'" in out
    assert len(world.records("package.supersede_refused")) == 4
    out = supersede(world.packages["fail"], "--justification", "new template replaces echo",
                    code=0)  # fmt: skip
    assert out.startswith("superseded:")
