# syntax=docker/dockerfile:1.7
# One image per service, all from this file: pick one with `--target gateway|auth|tenants|
# usercache`, or `--target aws-emulator` for the development-only AWS emulator.
#
#   docker build --target tenants -t cloudivize/tenants:dev .
#
# The base is pinned by tag; pin it by digest too (`python:3.11.14-slim-bookworm@sha256:…`)
# in the registry mirror you build from, since a tag can be re-pushed.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_VERSION=0.13.8

# --- build stages: resolve and install the pinned dependencies into /opt/venv ----------
FROM ${PYTHON_IMAGE} AS build-base
ARG UV_VERSION
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install "uv==${UV_VERSION}" \
    && uv venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./

FROM build-base AS build-services
RUN uv pip install --python /opt/venv/bin/python -r pyproject.toml

FROM build-base AS build-emulator
RUN uv pip install --python /opt/venv/bin/python -r pyproject.toml --extra devstack

# --- runtime: no compiler, no package manager cache, an unprivileged user --------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CLOUDIVIZE_ENV=production \
    LOG_FORMAT=json
RUN groupadd --system --gid 10001 cloudivize \
    && useradd --system --uid 10001 --gid cloudivize --no-create-home \
        --home-dir /app --shell /usr/sbin/nologin cloudivize
WORKDIR /app

FROM runtime AS service-base
COPY --from=build-services /opt/venv /opt/venv
COPY --chown=root:root shared/ shared/
COPY --chown=root:root services/ services/
COPY --chown=root:root tools/__init__.py tools/migrate.py tools/services.py tools/
USER 10001:10001

FROM service-base AS gateway
ENV GATEWAY_HOST=0.0.0.0 GATEWAY_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "services.gateway"]

FROM service-base AS auth
ENV AUTH_HOST=0.0.0.0 AUTH_PORT=8001
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/healthz', timeout=2)"]
CMD ["python", "-m", "services.auth"]

FROM service-base AS tenants
ENV TENANTS_HOST=0.0.0.0 TENANTS_PORT=8002
EXPOSE 8002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/healthz', timeout=2)"]
CMD ["python", "-m", "services.tenants"]

FROM service-base AS usercache
ENV USERCACHE_HOST=0.0.0.0 USERCACHE_PORT=8003
EXPOSE 8003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8003/healthz', timeout=2)"]
CMD ["python", "-m", "services.usercache"]

# Not for production: answers AWS calls with fake data. It also carries devstack's demo
# seeding, which docker-compose.yml runs once the tenants service is up.
FROM runtime AS aws-emulator
ENV CLOUDIVIZE_ENV=development LOG_FORMAT=console
COPY --from=build-emulator /opt/venv /opt/venv
COPY --chown=root:root shared/ shared/
COPY --chown=root:root devstack/ devstack/
USER 10001:10001
EXPOSE 4566
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_emulator/info', timeout=2)"]
CMD ["python", "-m", "devstack.aws", "--host", "0.0.0.0", "--port", "4566"]
