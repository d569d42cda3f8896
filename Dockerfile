# Glowworm image: Daphne (web), RQ workers and the one-shot migrate share it; see compose.yaml.

# Build stage: mysqlclient has no Linux wheel, so compile it here against MariaDB Connector/C.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libmariadb-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt requirements-mysql.txt /tmp/
# Hash-locked (`make lock`). mysqlclient builds against the setuptools requirements.txt locks (--no-build-isolation),
# not an unhashed one fetched for the build: so requirements.txt goes in first.
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.txt \
    && /opt/venv/bin/pip install --require-hashes --no-build-isolation -r /tmp/requirements-mysql.txt

# Runtime stage: no compiler, only the client library mysqlclient links to (it carries the
# caching_sha2_password plugin MySQL 8.4 uses by default). The app's user and group are 10001: the proxy image
# (deploy/nginx/Dockerfile) has the group too, to read the media and static files.
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 glowworm \
    && useradd --system --uid 10001 --gid glowworm --home-dir /app --no-create-home glowworm
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MEDIA_ROOT=/data/media \
    GLOWWORM_VAR_DIR=/data/var
WORKDIR /app
# The code belongs to root and is read-only to the app; only /data (the volumes) is writable.
COPY . /app
# Hashed, compressed static files for WhiteNoise, made once at build time. compose.yaml's migrate collects them again
# into the static volume (STATIC_ROOT=/data/static) that the proxy serves.
RUN SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput --verbosity 0
# A fresh named volume copies this directory's owner, so the app user can write media and static files into it.
RUN mkdir -p /data/media /data/static /data/var && chown -R glowworm:glowworm /data && chmod 700 /data/var
USER glowworm
EXPOSE 8000
CMD ["python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000", "glowworm.asgi:application"]
