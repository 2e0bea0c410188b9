"""Audited validation reports: template catalogue, parameter schema, Papermill
runner, audit packages, manifests, electronic signatures and reproduction.

Public entry points are re-exported lazily from :mod:`cmlops` (``run_report``,
``verify_package``, ``sign_package``, ...); import the submodules directly for
the rest.
"""
