"""The database handle as the entry points name it: they receive one (built by the
command line or the app factory) and hand it to the services, never reaching into the
store themselves."""

from __future__ import annotations

from footfall.store.db import Database

__all__ = ["Database"]
