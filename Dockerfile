# syntax=docker/dockerfile:1
# claude-code-runner: one Claude Agent SDK session per container, observable with OpenTelemetry.
# The claude-agent-sdk wheel bundles the Claude Code CLI, so the image needs no Node.js.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# The locked dependency set (scripts/lock), hashes checked, in a layer of its own.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN python -m venv /opt/runner \
 && /opt/runner/bin/pip install --no-cache-dir --upgrade pip==25.2 \
 && /opt/runner/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/runner/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="claude-code-runner" \
      org.opencontainers.image.description="Runs a Claude Agent SDK session as a Job, traced with OpenTelemetry (Langfuse or any OTLP backend)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# git: agents work in repositories. No compilers or build tools in this stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 runner \
 && useradd --uid 10001 --gid 10001 --home-dir /home/runner --create-home --shell /bin/bash runner \
 && mkdir -p /workspace \
 && chown 10001:10001 /workspace

COPY --from=build /opt/runner /opt/runner

ENV PATH="/opt/runner/bin:${PATH}" \
    HOME=/home/runner \
    CLAUDE_CONFIG_DIR=/home/runner/.claude \
    WORKSPACE_PATH=/workspace \
    TMPDIR=/tmp \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER 10001:10001
WORKDIR /workspace
ENTRYPOINT ["claude-runner"]
CMD ["run"]
