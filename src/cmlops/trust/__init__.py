"""Trust: who may sign, with which key, and how a verifier checks it without trusting the signer.

The rule of this layer: a verifier never trusts a claim carried by the thing it
verifies. A signature's key, the signer's printed name, the key's validity and
the signer's authority are looked up in records of the audit chain (key
registrations, retirements, revocations, policy records), never read from the
key file or from the signature entry itself.

Modules:

* :mod:`cmlops.trust.ed25519` — the signature primitive and the signed-bytes
  format shared by package signatures, key registrations, policies and chain
  checkpoints;
* :mod:`cmlops.trust.keys` — key files (an Ed25519 key pair whose private half
  is encrypted with the owner's passphrase);
* :mod:`cmlops.trust.checkpoint` — signed checkpoints of the audit chain (head,
  Merkle root, package signature summary), as records and as files to keep;
* :mod:`cmlops.trust.trail` — everything ``cmlops audit verify`` checks.
"""
