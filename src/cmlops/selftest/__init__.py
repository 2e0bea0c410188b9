"""Self-validation of an installation: requirements, traceability, IQ / OQ / PQ.

Before a regulated organisation uses cmlops for GxP work, its QA validates the
installation (computer software assurance). This package produces that
evidence with cmlops itself:

* :mod:`~cmlops.selftest.requirements` — the requirements catalogue
  (``docs/requirements.yaml``, shipped in the wheel): each requirement, the
  regulation clauses it serves and the tests that prove it;
* :mod:`~cmlops.selftest.results` — the shipped results of the test run of this
  build (the *tested set*: Python, platform, dependency versions and each
  requirement's tests with their outcome);
* :mod:`~cmlops.selftest.traceability` — the traceability matrix (Markdown, HTML);
* :mod:`~cmlops.selftest.installation` — IQ: the installed files against the
  wheel's RECORD, the environment against the tested set;
* :mod:`~cmlops.selftest.oq_audit`, :mod:`~cmlops.selftest.oq_signatures`,
  :mod:`~cmlops.selftest.oq_statistics`, :mod:`~cmlops.selftest.oq_packages` —
  OQ: known-answer checks run against the installed copy;
* :mod:`~cmlops.selftest.performance` — PQ: the user's template, data and plan;
* :mod:`~cmlops.selftest.run` — ``cmlops selftest``: all of it, into a signed
  validation package that ``cmlops package verify`` checks like any other.
"""
