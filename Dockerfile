# lg-deploy: one image for every function; the command picks it (`lg-deploy intake`,
# `executor`, `cron`, `webhooks`, `builder`). It holds the runtime only: build your project's
# image FROM it, with langgraph.json and your graphs in /app (README "Container image").
#
#   docker build -t lg-deploy .
#   docker run -e LG_DEPLOY_DATABASE_URL=postgresql://… -p 8080:8080 my-agents intake

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY functions ./functions
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# git: the builder function clones the repositories it is asked to build.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

# A fixed non-root uid/gid (the Helm chart runs pods as 10001 with runAsNonRoot).
RUN groupadd --gid 10001 lgdeploy \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp lgdeploy \
    && mkdir -p /app && chown 10001:10001 /app
WORKDIR /app

# The root filesystem may be read-only (Pod Security "restricted" charts mount /tmp only).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    LG_DEPLOY_HOST=0.0.0.0 \
    LG_DEPLOY_PORT=8080 \
    LG_DEPLOY_CONFIG=/app/langgraph.json
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["lg-deploy"]
CMD ["intake"]
