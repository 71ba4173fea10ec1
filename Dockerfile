# kicks in a container: CPU-only torch, non-root user, served on 8501 with a health check.
#   docker build -t kicks . && docker run -p 8501:8501 kicks
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, so code changes do not reinstall them. requirements.txt pins CPU torch/torchvision.
COPY requirements.txt ./
COPY requirements/ ./requirements/
RUN pip install -r requirements.txt \
 && pip install --no-deps -r requirements/nodeps.txt

# A numeric USER: Kubernetes' runAsNonRoot can only verify a number (hadolint DL3066).
RUN groupadd --gid 10001 kicks && useradd --no-log-init --create-home --uid 10001 --gid 10001 kicks
COPY --chown=10001:10001 . .
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["python", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
