"""Exceptions raised by cmlops.

Every message is one line that says what was wrong and what to do about it;
the CLI prints it without a traceback. The tree::

    CmlopsError
    ├── InvalidInputError (ValueError)      bad argument, file or parameter from the user
    │   ├── InvalidAnchorError              an anchor that is not a chain head hash
    │   ├── InvalidRecordError              an audit record that cannot be canonicalised
    │   ├── SigningError                    a signature, key or registration refused
    │   ├── PolicyError                     a malformed policy or a refused policy change
    │   └── ResultFormatError               a dict given to ``from_dict`` is not a readable result
    ├── StoreError                          the audit store cannot be used
    │   ├── StoreNotWritableError (PermissionError)
    │   ├── StoreCorruptError               the database file is damaged or not a store
    │   ├── StoreUnreachableError (ConnectionError)
    │   ├── SchemaVersionError              store written by an older or newer cmlops
    │   ├── StoreReplacedError              the store vanished or was replaced mid-session
    │   └── RecordRefusedError              the database refused a record (wrong actor, ...)
    ├── SparkError                          Spark or its JVM failed (no Java, a lost executor)
    ├── ImmutableRecordError                an attempt to update or delete evidence
    ├── ProofError                          a Merkle proof or checkpoint does not verify
    ├── ArtifactError                       a blob is missing or does not match its name
    └── OutputFileError (OSError)           a file the caller asked for cannot be written

Errors of one part live beside it and subclass these (``cmlops`` exports them all):
``TrackingError`` (capture), ``SchemaError`` and ``EvaluationInputError`` (stats),
``TemplateError``, ``ParameterError``, ``PlanError``, ``PackageError`` … (reports),
``UnfingerprintableError`` and ``FingerprintTooLargeError`` (fingerprinting),
``IndependenceInputError`` (stats), ``RegistryError``, ``ProtocolError``,
``ApprovalError``, ``DossierError`` (lifecycle).
"""

from __future__ import annotations


class CmlopsError(Exception):
    """Base class of every error cmlops raises on purpose."""


class InvalidInputError(CmlopsError, ValueError):
    """The caller gave something cmlops cannot use; the message says what to change."""


class InvalidAnchorError(InvalidInputError):
    """An anchor given to verify is not a 64-character hexadecimal SHA-256 hash."""


class InvalidRecordError(InvalidInputError):
    """An audit record field cannot be stored (not JSON, lone surrogate, NaN, ...)."""


class SigningError(InvalidInputError):
    """A signature cannot be made or a key cannot be used: the message says why and what to do."""


class PolicyError(InvalidInputError):
    """A policy file is malformed, or a policy change is refused (not an admin, bad signature)."""


class ResultFormatError(InvalidInputError):
    """A dict given to a result's ``from_dict`` is not one this cmlops can read.

    Written by an older or newer cmlops (another result format version), of another
    result kind, damaged, or edited so that its verdict no longer follows from its content.
    """


class StoreError(CmlopsError):
    """The audit store cannot be opened or written."""


class StoreNotWritableError(StoreError, PermissionError):
    """The store folder or database cannot be written by this user."""


class StoreCorruptError(StoreError):
    """The store database exists but is damaged or is not a cmlops store."""


class StoreUnreachableError(StoreError, ConnectionError):
    """The database server named by the store URL does not answer."""


class SchemaVersionError(StoreError):
    """The store was written by another schema version than this cmlops supports."""


class StoreReplacedError(StoreError):
    """The store this session opened vanished (deleted folder) or was replaced by another."""


class RecordRefusedError(StoreError):
    """The database's own checks refused a record (another actor's name, not the head, ...)."""


class SparkError(CmlopsError):
    """Spark could not run a job (Java missing, the JVM failed); the message is one line."""


class ImmutableRecordError(CmlopsError):
    """Evidence is append-only: records are never updated or deleted."""


class ProofError(CmlopsError):
    """A Merkle proof, checkpoint or audit extract does not verify (the CLI exits 1)."""


class ArtifactError(CmlopsError):
    """A content-addressed artifact is missing or its bytes do not match its digest."""


class OutputFileError(CmlopsError, OSError):
    """A file the caller asked cmlops to write (``save_html``, an export) cannot be written."""
