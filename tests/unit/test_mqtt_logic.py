"""The MQTT publisher's pure parts: coalescing, topics, discovery configs, broker URLs,
and the settings that turn them on."""

from __future__ import annotations

import pytest

from footfall.config import ConfigError, Settings
from footfall.domain.broker_url import BrokerURLError, parse_broker_url
from footfall.mqtt.coalesce import Coalescer
from footfall.mqtt.discovery import SENSORS, Topics, sensor_config


def test_a_burst_becomes_one_publish_per_interval_carrying_the_latest() -> None:
    values = Coalescer(interval_ms=1000)
    values.offer("t", b"1")
    assert values.due(0) == [("t", b"1")]
    values.offer("t", b"2")
    values.offer("t", b"3")
    assert values.due(500) == []  # too soon after the last publish
    values.offer("t", b"4")
    assert values.due(999) == []
    assert values.due(1000) == [("t", b"4")]  # the latest, once the second has passed
    assert values.due(5000) == []  # nothing changed since


def test_only_a_change_of_the_key_is_a_change() -> None:
    values = Coalescer()
    values.offer("t", b'{"v":1,"time":1}', key=b"1")
    assert values.due(0) == [("t", b'{"v":1,"time":1}')]
    values.offer("t", b'{"v":1,"time":2}', key=b"1")
    assert values.due(10_000) == []
    values.offer("t", b'{"v":2,"time":3}', key=b"2")
    assert values.due(10_000) == [("t", b'{"v":2,"time":3}')]


def test_resend_all_makes_every_latest_value_due_again() -> None:
    values = Coalescer()
    values.offer("a", b"1")
    values.offer("b", b"2")
    values.due(0)
    values.offer("b", b"3")
    values.resend_all()
    assert sorted(values.due(2000)) == [("a", b"1"), ("b", b"3")]


def test_a_retired_topic_is_cleared_once_then_forgotten() -> None:
    values = Coalescer()
    values.offer("a", b"1")
    values.due(0)
    values.retire("a")
    assert values.due(2000) == [("a", b"")]
    values.resend_all()
    assert values.due(4000) == []
    values.offer("a", b"5")  # back again
    assert values.due(6000) == [("a", b"5")]


def test_topics_and_discovery_config() -> None:
    topics = Topics("footfall", "homeassistant")
    assert topics.state(12, "occupancy", 3) == "footfall/12/occupancy/3"
    assert (
        topics.discovery(12, "occupancy", 3)
        == "homeassistant/sensor/footfall_12_occupancy_3/config"
    )
    assert Topics("site a/ff").object_id(1, "queue", 2) == "site_a_ff_1_queue_2"
    assert Topics("footfall", "").discovery(1, "queue", 2) is None
    config = sensor_config(
        topics, location_id=12, location_name="Shop", kind="queue", metric_id=2, name="Tills"
    )
    assert config["state_topic"] == "footfall/12/queue/2"
    assert config["value_template"] == "{{ value_json.length }}"
    assert config["unique_id"] == "footfall_12_queue_2"
    assert config["availability_topic"] == "footfall/status"
    assert config["device"]["name"] == "Shop"
    assert config["unit_of_measurement"]


def test_a_queue_wait_time_is_a_sensor_of_its_own() -> None:
    """Home Assistant charts a sensor's state, not its attributes: the wait time gets its
    own entity, in seconds, on the same device and state topic as the queue's length."""
    topics = Topics("footfall", "homeassistant")
    assert topics.discovery(12, "queue", 2, "wait_time") == (
        "homeassistant/sensor/footfall_12_queue_2_wait_time/config"
    )
    length = sensor_config(
        topics, location_id=12, location_name="Shop", kind="queue", metric_id=2, name="Tills"
    )
    wait = sensor_config(
        topics,
        location_id=12,
        location_name="Shop",
        kind="queue",
        metric_id=2,
        name="Tills",
        sensor="wait_time",
    )
    assert wait["name"] == "Tills wait time"
    assert wait["unique_id"] == "footfall_12_queue_2_wait_time" != length["unique_id"]
    assert wait["state_topic"] == length["state_topic"] == "footfall/12/queue/2"
    assert wait["value_template"] == "{{ value_json.wait_time }}"
    assert (wait["unit_of_measurement"], wait["device_class"]) == ("s", "duration")
    assert wait["state_class"] == "measurement"
    assert wait["device"] == length["device"]
    assert "device_class" not in length  # a count of objects has no HA device class
    assert [s.key for s in SENSORS["occupancy"]] == [""]


def test_broker_urls() -> None:
    url = parse_broker_url("mqtts://user:p%40ss@broker.example:8884")
    assert (url.host, url.port, url.tls, url.username, url.password) == (
        "broker.example",
        8884,
        True,
        "user",
        "p@ss",
    )
    assert parse_broker_url("mqtt://127.0.0.1").port == 1883
    assert parse_broker_url("mqtts://h").port == 8883
    assert "p@ss" not in str(url)
    assert "p@ss" not in repr(url)
    for bad in ("http://h", "mqtt://", "mqtt://h:99999", "mqtt://h/topic"):
        with pytest.raises(BrokerURLError, match="expected mqtt://"):
            parse_broker_url(bad)


def test_settings_read_and_check_the_new_variables() -> None:
    settings = Settings.from_env(
        {
            "FOOTFALL_LOG_FORMAT": "JSON",
            "FOOTFALL_METRICS_TOKEN": "s3cret",
            "FOOTFALL_MQTT_URL": "mqtt://127.0.0.1:1883",
            "FOOTFALL_MQTT_TOPIC_PREFIX": "site-a/footfall",
        }
    )
    assert settings.log_format == "json"
    assert settings.metrics_token == "s3cret"
    assert settings.mqtt_url == "mqtt://127.0.0.1:1883"
    assert settings.mqtt_topic_prefix == "site-a/footfall"
    assert settings.mqtt_discovery_prefix == "homeassistant"
    assert Settings.from_env({"FOOTFALL_MQTT_DISCOVERY_PREFIX": ""}).mqtt_discovery_prefix == ""
    for env, named in [
        ({"FOOTFALL_LOG_FORMAT": "xml"}, "FOOTFALL_LOG_FORMAT"),
        ({"FOOTFALL_MQTT_URL": "tcp://h"}, "FOOTFALL_MQTT_URL"),
        ({"FOOTFALL_MQTT_TOPIC_PREFIX": "a/#"}, "FOOTFALL_MQTT_TOPIC_PREFIX"),
        ({"FOOTFALL_MQTT_DISCOVERY_PREFIX": "/ha"}, "FOOTFALL_MQTT_DISCOVERY_PREFIX"),
    ]:
        with pytest.raises(ConfigError, match=named):
            Settings.from_env(env)


def test_a_broker_url_error_never_shows_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"FOOTFALL_MQTT_URL": "mqtt://me:hunter2@h:notaport"})
    assert "hunter2" not in str(caught.value)
