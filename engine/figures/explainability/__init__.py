"""explainability."""
