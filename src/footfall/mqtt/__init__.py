"""MQTT: Footfall's live values for Home Assistant and other subscribers (the broker
session, shared with the Frigate bridge, is `footfall.uplink.broker_session`; broker URLs
are `footfall.domain.broker_url`).

    coalesce.py   latest value per topic, at most one publish per second per topic
    discovery.py  topics and payloads: values and Home Assistant discovery configs
    publisher.py  occupancy counters and queues from the database to the broker
"""
