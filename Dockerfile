# One image for every service, the gateway and the migration job; the command picks which:
#   challenge migrate                                          (the migration job)
#   nameko run --config deploy/config.yaml services.roster.service   (a service)
#   nameko run --config deploy/config.yaml gateway.service           (the gateway, port 8000)
# Configuration comes from the environment only (deploy/config.yaml lists every variable).
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock pyproject.toml ./
COPY kernel kernel
COPY services services
COPY gateway gateway
COPY challenge challenge
# the runtime dependencies of pyproject.toml, at exactly the versions of requirements.lock
# (the lock also pins the test tools; they stay out of the image)
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --constraint requirements.lock . \
 && /opt/venv/bin/pip check

FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="monthly-level-challenge" \
      org.opencontainers.image.description="One level a month: services, gateway, migrations"
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    WEB_SERVER_ADDRESS=0.0.0.0:8000 LOG_FORMAT=json \
    PYTHONWARNINGS=ignore::DeprecationWarning,ignore::Warning:nameko.cli.commands
# (eventlet warns it is deprecated while nameko imports it, before logging is configured:
# nine lines of raw text at the head of every JSON log; later warnings are logged as JSON)
RUN groupadd --system --gid 10001 challenge \
 && useradd --system --uid 10001 --gid challenge --home-dir /app --shell /usr/sbin/nologin challenge
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY deploy/config.yaml deploy/config.yaml
USER 10001:10001
EXPOSE 8000
# the gateway answers /healthz; services override this with `challenge ping <service>`
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["challenge", "ping", "gateway"]
CMD ["nameko", "run", "--config", "deploy/config.yaml", "gateway.service"]
