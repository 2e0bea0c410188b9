"""The model's life cycle: registry, change control, impact assessment, dossiers.

This layer sits after ``reports``: it reads the lineage and the audit log, runs
report templates and checks audit packages, and records its own facts (model
versions, status transitions, protocols, dossiers) as audit records. Its state is
never stored apart from the chain: every status is replayed from records.
"""
