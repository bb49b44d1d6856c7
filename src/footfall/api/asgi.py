"""Entry point for ASGI servers: `uvicorn --factory footfall.api.asgi:app_from_env`.

Settings come from the environment (secrets also from `NAME_FILE`), so several worker
processes share one configuration.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from footfall.api.app import create_app
from footfall.config import Settings, read_secret_files

__all__ = ["app_from_env"]


def app_from_env() -> FastAPI:
    read_secret_files(os.environ)
    return create_app(Settings.from_env())
