"""`footfall agent`: an edge agent that turns video into Footfall events.

video (file, RTSP, camera) -> background subtraction and blobs -> ByteTrack tracks ->
line / zone / scene rules -> local spool (SQLite) -> ingest API, acknowledged batches only.
"""
