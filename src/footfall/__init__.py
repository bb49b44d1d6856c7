"""Footfall: a self-hosted video-analytics events service.

Edge agents push line, zone and scene events over the ingest API; Footfall stores them
and serves them back through a Camlytics-compatible read API, webhooks and report feeds.
"""

__version__ = "0.1.0"
