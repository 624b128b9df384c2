# PaperRadar: the scheduler, the Telegram bot and the web archive (`paperradar serve`).
#
# CPU build (default):  docker build -t paperradar .
# CUDA build:           docker build -t paperradar:cuda \
#                         --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 .
#   then run with `--gpus all` (or `gpus: all` in compose) and PAPERRADAR_EMBEDDING__DEVICE=cuda;
#   pick the cuXXX index that matches the host's NVIDIA driver.
#
# Configuration comes only from PAPERRADAR_* environment variables and an optional YAML file
# named by PAPERRADAR_CONFIG (mount it read-only); secrets belong in the environment.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERRADAR_DATA_DIR=/app/var \
    PAPERRADAR_PROMPTS_DIR=/app/prompts \
    PAPERRADAR_PROFILES_DIR=/app/profiles \
    PAPERRADAR_MIGRATIONS_DIR=/app/db \
    PAPERRADAR_WEB__HOST=0.0.0.0 \
    HF_HOME=/app/var/hf

WORKDIR /app

# Torch first, from its own index: a bare `torch` requirement would pull a multi-GB CUDA build
# into the CPU image.
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# prompts/, profiles/ and db/ are packaged into the wheel (src/paperradar/data links to them).
COPY pyproject.toml README.md ./
COPY prompts ./prompts
COPY profiles ./profiles
COPY db ./db
COPY src ./src
COPY bot ./bot
RUN pip install .

RUN groupadd --gid 10001 paperradar \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin paperradar \
    && mkdir -p /app/var \
    && chown paperradar:paperradar /app/var
USER 10001:10001
VOLUME ["/app/var"]

# The web archive (role all or web).
EXPOSE 8080

# Healthy when the database answers and no scheduled job is overdue (a stalled scheduler).
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["paperradar", "health"]

CMD ["paperradar", "serve"]
