"""MQTT: Footfall's live values for Home Assistant and other subscribers, and the link to
brokers that the Frigate bridge shares.

    url.py        broker URLs (mqtt://, mqtts://) and topic prefixes, checked
    session.py    one broker session at a time, reconnecting with back-off
    coalesce.py   latest value per topic, at most one publish per second per topic
    discovery.py  topics and payloads: values and Home Assistant discovery configs
    leader.py     one publisher among the `footfall serve` processes sharing a database
    publisher.py  occupancy counters and queues from the database to the broker
"""
