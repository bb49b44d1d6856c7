"""The traffic simulator (an edge agent over the real ingest API) and the demo."""
