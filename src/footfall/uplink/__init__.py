"""The edge's link to a Footfall server and to MQTT brokers, shared by the edge agent and
the Frigate bridge (neither imports the other, nor the server's MQTT publisher).

    spool.py           events and heartbeats written durably before any send
    sender.py          the spool to the ingest API, deleted only once acknowledged
    broker_session.py  one MQTT broker session at a time, reconnecting
    backoff.py         the one doubling back-off both retry loops use
"""
