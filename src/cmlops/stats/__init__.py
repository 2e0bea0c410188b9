"""Statistics: drift, validation, evaluation and monitoring as pure functions on arrays and frames."""
