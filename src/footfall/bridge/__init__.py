"""Bridges from other systems' events to Footfall's ingest API.

frigate.py  Frigate's `frigate/events` messages as RegionJoin/RegionLeave (pure)
run.py      `footfall bridge frigate`: MQTT in, the edge's spool and sender out
            (`footfall.uplink`)
"""
