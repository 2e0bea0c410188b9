"""``cmlops selftest``: IQ, OQ and PQ into a signed validation package.

Order of events (nothing is written before every input is known good):

1. the PQ description, the output folders and the signing key (and its
   passphrase) are checked — a problem is a one-line error;
2. IQ, then OQ (in a throwaway folder with a throwaway store), then the PQ as an
   ordinary report run recorded in the user's store, its package beside the
   validation package (``<out>-pq``);
3. the traceability matrix: each requirement's tests with their result in the
   shipped test run, and this run's checks for it;
4. the validation package: a report run of the shipped ``validation.ipynb``
   template with the evidence as its input and one criterion per requirement,
   so its manifest, audit extract, verification and signatures are those of
   every audit package; it is signed ``authored`` by the person running the
   selftest and verified.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops._version import __version__
from cmlops.errors import InvalidInputError, SigningError
from cmlops.selftest.checks import STAGES, Check, by_requirement
from cmlops.selftest.performance import PQSpec, prepare_pq, run_pq
from cmlops.selftest.traceability import Row, build_matrix

#: the requirement a whole stage stands for (NOT RUN when the stage is skipped)
STAGE_REQUIREMENT = {"IQ": "REQ-CSV-002", "OQ": "REQ-CSV-003", "PQ": "REQ-CSV-004"}
PACKAGE_REQUIREMENT = "REQ-CSV-005"
TEMPLATE = Path(__file__).with_name("validation.ipynb")


@dataclass(frozen=True)
class SignRequest:
    """Who signs the validation package, with which key and passphrase."""

    passphrase: str
    key_path: Path | None = None
    name: str | None = None


@dataclass
class SelftestResult:
    """What ``run_selftest`` produced; ``ok`` only for a PASS package that verifies."""

    package: Path
    zip: Path
    verdict: str
    verified: bool
    checks: list[Check] = field(default_factory=list)
    matrix: list[Row] = field(default_factory=list)
    pq_package: Path | None = None
    signature: dict[str, Any] | None = None
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict == "PASS" and self.verified


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_signer(sign: SignRequest, store: Any) -> str:
    """The registered printed name to sign with, once signing is known to be allowed.

    The same checks ``cmlops package sign`` makes before it uses the passphrase,
    made before anything runs: the key file is the store actor's registered,
    active key (:func:`cmlops.trust.admin.signer_key`), a given name is the
    registered name, the signing policy lets the actor sign ``authored``
    (:func:`cmlops.trust.policy.signing_problem`), and the passphrase unlocks it.
    """
    from cmlops.trust.admin import signer_key
    from cmlops.trust.keys import default_key_path, read_key_file, unlock
    from cmlops.trust.ledger import load_ledger
    from cmlops.trust.policy import SigningFacts, signing_problem

    target = sign.key_path or default_key_path()
    if not Path(target).expanduser().is_file():
        raise SigningError(
            f"selftest signs its validation package, and there is no signing key at {target}: "
            'create and register yours with `cmlops keys generate --name "Your Full Name"` '
            "(or pass --key FILE)"
        )
    key = read_key_file(target)
    ledger = load_ledger(store)
    registered = signer_key(ledger, store.actor, key, store.clock())
    if sign.name is not None and sign.name != registered.name:
        raise SigningError(
            f"printed name {sign.name!r} is not your registered name {registered.name!r}: "
            "leave out --name or give your registered name"
        )
    facts = SigningFacts(store.actor, "authored", store.actor, "EXECUTED", "PASS", "", ())
    problem = signing_problem(ledger.policies.current, facts)
    if problem:
        raise SigningError(f"selftest signs its validation package 'authored', and {problem}")
    unlock(key, sign.passphrase)
    return registered.name


def prepare(stages: tuple[str, ...], pq: PQSpec | None, out: Path) -> Path:
    """Refuse bad input before anything runs; the PQ package's folder."""
    from cmlops.reports.package import check_destination

    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        raise InvalidInputError(f"unknown stage(s) {unknown}: choose from {', '.join(STAGES)}")
    pq_out = out.with_name(out.name + "-pq")
    check_destination(out, force=False)
    if "PQ" in stages:
        if pq is None:
            raise InvalidInputError(
                "selftest needs a performance qualification: --pq-config FILE, or --pq-template "
                "with --pq-data and --pq-plan, or --pq-example for the shipped example"
            )
        prepare_pq(pq)
        check_destination(pq_out, force=False)
    return pq_out


def _tested() -> dict[str, Any] | None:
    """The shipped results of the full test run, or None when this build has none."""
    from cmlops.selftest.results import load_results

    try:
        return load_results()
    except InvalidInputError:
        return None


def gather_checks(
    stages: tuple[str, ...], pq: PQSpec | None, *, store: Any, pq_out: Path, require_tested: bool
) -> tuple[list[Check], Any]:
    """IQ, OQ and PQ checks (in that order) and the PQ run (or None)."""
    from cmlops.selftest.installation import qualify_installation
    from cmlops.selftest.operation import qualify_operation

    tested = _tested()
    checks: list[Check] = []
    if "IQ" in stages:
        checks += qualify_installation(
            tested["environment"] if tested else None, require_tested=require_tested
        )
    if "OQ" in stages:
        with tempfile.TemporaryDirectory(prefix="cmlops-oq-") as work:
            checks += [
                dataclasses.replace(c, requirements=(*c.requirements, STAGE_REQUIREMENT["OQ"]))
                for c in qualify_operation(Path(work))
            ]
    pq_run = None
    if "PQ" in stages and pq is not None:
        pq_checks, pq_run = run_pq(pq, store=store, out=pq_out)
        checks += pq_checks
    return checks, pq_run


def matrix_rows(checks: list[Check], stages: tuple[str, ...]) -> tuple[list[Row], dict | None]:
    """The matrix of this run; a skipped stage's requirement is NOT RUN, whatever CI said."""
    from cmlops.selftest.requirements import load_requirements
    from cmlops.selftest.results import outcomes_by_test

    tested = _tested()
    outcomes = outcomes_by_test(tested) if tested else {}
    rows = build_matrix(load_requirements(), outcomes, by_requirement(checks))
    skipped = {STAGE_REQUIREMENT[s] for s in STAGES if s not in stages}
    rows = [Row(r.requirement, ()) if r.requirement.id in skipped else r for r in rows]
    return rows, tested


def _facts(tested: dict[str, Any] | None, stages: tuple[str, ...]) -> list[tuple[str, str]]:
    from cmlops.selftest.traceability import results_facts

    ran = [("selftest", f"cmlops {__version__}, stages {', '.join(stages)}, {_now()}")]
    if tested is None:
        return [*ran, ("test run", "no test results are shipped with this build")]
    return ran + results_facts(tested)


def write_evidence(
    folder: Path, checks: list[Check], rows: list[Row], tested: dict | None, stages, pq_run
) -> Path:
    """The evidence file the validation template reads (an input of its run)."""
    from cmlops.atomic_files import write_atomic
    from cmlops.selftest.validation_report import EVIDENCE_SCHEMA

    pq = None
    if pq_run is not None:
        manifest = pq_run.manifest
        pq = {
            "package": str(pq_run.package),
            "package id": manifest.get("package_id"),
            "template": manifest.get("template", {}).get("name"),
            "plan": manifest.get("plan", {}).get("plan_id"),
            "verdict": manifest.get("results", {}).get("verdict"),
        }
    document = {
        "schema": EVIDENCE_SCHEMA,
        "kit_version": __version__,
        "stages": list(stages),
        "checks": [c.to_dict() for c in checks],
        "matrix": [r.to_dict() for r in rows],
        "facts": [list(f) for f in _facts(tested, stages)],
        "facts_run": [
            ["question", "Is this cmlops installation fit for its intended GxP use?"],
            ["context_of_use", "Installation, operational and performance qualification (CSA)"],
            ["python", f"{platform.python_version()} on {platform.platform()}"],
        ],
        "tested_set": (tested or {}).get("environment", {}),
        "pq": pq,
    }
    path = folder / "evidence.json"
    write_atomic(path, json.dumps(document, indent=1, sort_keys=True))
    return path


def _plan(folder: Path) -> Path:
    from cmlops.atomic_files import write_atomic
    from cmlops.selftest.requirements import catalogue_path, load_requirements
    from cmlops.selftest.validation_report import selftest_plan

    digest = hashlib.sha256(catalogue_path().read_bytes()).hexdigest()[:12]
    plan = selftest_plan(load_requirements(), f"cmlops-selftest-{__version__}-{digest}")
    path = folder / "plan.json"
    write_atomic(path, json.dumps(plan, indent=1))
    return path


def _validation_package(store: Any, out: Path, evidence: Path, plan: Path, pq_run: Any) -> Any:
    from cmlops.reports.catalogue import describe_template
    from cmlops.reports.runner import run_report

    parameters: dict[str, Any] = {"evidence": str(evidence)}
    if pq_run is not None:
        parameters["pq_package"] = str(pq_run.zip)
    return run_report(
        describe_template(str(TEMPLATE)),
        parameters,
        plan=plan,
        out=out,
        store=store,
        progress=False,
    )


def _sign(package: Path, sign: SignRequest, name: str, store: Any) -> dict[str, Any]:
    """Sign the validation package 'authored' by the person who ran the selftest."""
    from cmlops.reports.signing import sign_package

    return sign_package(
        package,
        meaning="authored",
        name=name,
        passphrase=sign.passphrase,
        key_path=sign.key_path,
        store=store,
    )


def run_selftest(
    *,
    pq: PQSpec | None,
    out: str | Path | None = None,
    stages: tuple[str, ...] = STAGES,
    sign: SignRequest | None = None,
    require_tested: bool = False,
    store: Any = None,
) -> SelftestResult:
    """Run the selftest into a validation package (see the module docstring).

    Bad input (a missing or invalid PQ, an existing output folder, no usable
    signing key) raises a one-line :class:`~cmlops.errors.InvalidInputError`
    before anything runs. Failed checks do not raise: the package records them
    and ``result.ok`` is False.
    """
    from cmlops.reports.verify import verify_package

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = Path(out).expanduser().resolve() if out else Path.cwd() / f"cmlops-selftest-{stamp}"
    pq_out = prepare(tuple(stages), pq, target)
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    name = check_signer(sign, store) if sign is not None else ""
    checks, pq_run = gather_checks(
        tuple(stages), pq, store=store, pq_out=pq_out, require_tested=require_tested
    )
    rows, tested = matrix_rows(checks, tuple(stages))
    with tempfile.TemporaryDirectory(prefix="cmlops-selftest-") as folder:
        evidence = write_evidence(Path(folder), checks, rows, tested, tuple(stages), pq_run)
        run = _validation_package(store, target, evidence, _plan(Path(folder)), pq_run)
    signature = _sign(run.package, sign, name, store) if sign is not None else None
    verified = verify_package(run.package, store=store)  # its signature against the store too
    return SelftestResult(
        package=run.package,
        zip=run.zip,
        verdict=str(run.manifest.get("results", {}).get("verdict")) if run.ok else run.status,
        verified=verified.ok,
        checks=checks,
        matrix=rows,
        pq_package=pq_run.package if pq_run is not None else None,
        signature=signature,
        findings=verified.lines(),
    )
