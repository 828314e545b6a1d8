# ch'tipass production image: gunicorn serves config.wsgi on port 8000; the same image runs
# the migrations, the Celery worker and beat (see docker-compose.yml). Configuration comes from
# the environment at run time (README "Configuration"); nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 chtipass \
    && useradd --system --uid 10001 --gid chtipass --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin chtipass

WORKDIR /app

# Dependencies first, every one at the version and with the hashes of requirements.lock (the
# production dependencies of pyproject.toml, no dev extras; README "Tests" says how it is
# written), so that this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the project itself, installed in place so that the code runs from /app, without
# dependencies and built by the locked setuptools (hash-checking cannot install an editable).
COPY . .
RUN pip install --no-deps --no-build-isolation -e . \
    && mkdir -p /app/media /var/lib/chtipass \
    && chown chtipass:chtipass /app/media /var/lib/chtipass

# Static files are collected with the production storage (hashed, compressed names). The
# production settings refuse to load without a 50+ character SECRET_KEY, so this one command
# gets a random throwaway key that exists only for its duration and is in no layer.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    CHTIPASS_ENV=production \
    python manage.py collectstatic --no-input

USER 10001:10001

EXPOSE 8000

# 2 cores: 2 processes x 8 threads, the best of the configurations measured for scans
# (benchmarks/SCANS.md); threads keep the scanners' connections alive. Override the command to
# tune for more cores (e.g. --workers 4): gunicorn.conf.py, which keeps the iCal feed's secret
# out of the logs and refuses several processes without REDIS_URL, applies all the same.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "8", "--access-logfile", "-"]
