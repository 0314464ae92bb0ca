"""The steps of a claim's lifecycle, one idea per module; ClaimWorkflow runs them in order."""
