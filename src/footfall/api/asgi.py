"""Entry point for ASGI servers: `uvicorn --factory footfall.api.asgi:app_from_env`.

Settings come from the environment, so several worker processes share one configuration.
"""

from __future__ import annotations

from fastapi import FastAPI

from footfall.api.app import create_app
from footfall.config import Settings

__all__ = ["app_from_env"]


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
