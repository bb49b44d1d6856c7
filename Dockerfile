# syntax=docker/dockerfile:1
# Footfall as a container image (docs/operations.md). `compose.yaml` runs it beside
# PostgreSQL and Mosquitto.
#
# Stage 1 builds wheels of Footfall and everything it needs; stage 2 installs them into a
# slim Python image without the wheels, build tools or cache, and runs as an unprivileged
# user with its data (the SQLite default) in the /data volume.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Footfall" \
      org.opencontainers.image.description="Self-hosted video-analytics events service (Camlytics Service REST API v1 compatible)" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FOOTFALL_DATABASE_URL=sqlite:////data/footfall.db
RUN groupadd --system --gid 10001 footfall \
    && useradd --system --uid 10001 --gid footfall --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin footfall \
    && mkdir /data \
    && chown footfall:footfall /data
# The wheels are mounted from the build stage, never copied: no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
# Numeric, so an orchestrator can check it is not root (runAsNonRoot) without /etc/passwd.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["footfall"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
