# newsdesk: the Discord bot with the pinned, CPU-only stack.
#
#   docker build -t newsdesk .
#   docker volume create newsdesk-data
#   docker run --rm -v newsdesk-data:/data newsdesk ingest /opt/newsdesk/seeds
#   docker run -d --name newsdesk --restart unless-stopped --env-file docker.env -v newsdesk-data:/data newsdesk
#
# docker.env holds DISCORD_TOKEN and any NEWSDESK_* settings you change (not NEWSDESK_DATA_DIR:
# the index lives in the /data volume). See docs/discord.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, pinned, from the CPU-only index: an unpinned torch (or PyPI's default wheel)
# pulls gigabytes of CUDA packages this bot never uses.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
COPY bot ./bot
COPY index ./index
COPY retrieval ./retrieval
# The rest of the known-good stack, held to the same pins (constraints.txt repeats torch==2.13.0,
# so nothing can swap the CPU wheel for another build).
RUN pip install -c constraints.txt . && pip check

FROM ${PYTHON_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin newsdesk \
    && install -d -o newsdesk -g newsdesk -m 0750 /data
COPY --from=build /opt/venv /opt/venv
COPY seeds /opt/newsdesk/seeds
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_PROGRESS_BARS=1 \
    NEWSDESK_DATA_DIR=/data
# The SQLite database, the search snapshots and the converted (OpenVINO) model live here.
VOLUME ["/data"]
WORKDIR /data
USER newsdesk
# SIGTERM closes the bot cleanly (exit 0); docker stop sends it and waits 10 s by default.
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsdesk"]
CMD ["bot"]
