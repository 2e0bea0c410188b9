"""Statistics: drift, validation, evaluation and monitoring on arrays and frames."""
