# Một Cửa: one image for web (gunicorn), Celery worker and beat. No secrets are baked in:
# everything comes from the environment at run time (see docker-compose.yml and README).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=egov.settings

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 motcua

WORKDIR /app
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

COPY . .
# collectstatic needs settings to load; this throwaway key is used for that one command only.
RUN SECRET_KEY=collectstatic-only-not-a-runtime-secret DEBUG=0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R motcua:motcua /app/var

USER motcua
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["gunicorn", "egov.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
