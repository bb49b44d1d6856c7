"""Persistence: the schema, its migrations, and one module per aggregate.

Every instant is stored as integer epoch milliseconds (UTC). Every table that grows
carries `location_id` first in its keys, so the data can later be distributed by location.
"""
