# claimflow's worker, sandbox and console (docker-compose.yml runs each with its own command).
FROM python:3.11-slim

# WeasyPrint renders statements and letters to PDF with Pango; DejaVu gives it a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
       libfontconfig1 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .

# Never run as root; CLAIMFLOW_HOME holds written documents and, for the sandbox, its state.
RUN useradd --create-home --uid 10001 claimflow \
    && mkdir -p /var/lib/claimflow/documents /var/lib/claimflow/sandbox \
    && chown -R claimflow /var/lib/claimflow
USER claimflow
ENV CLAIMFLOW_HOME=/var/lib/claimflow \
    CLAIMFLOW_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1

CMD ["python", "-m", "claimflow.workers"]
