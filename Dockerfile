FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg nmap npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt package.json ./
RUN pip install --no-cache-dir -r requirements.txt && npm install --omit=dev --no-audit --no-fund
COPY . .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "-c", "python:lprnvr.gunicorn_conf", "lprnvr.wsgi:application", "--bind", "0.0.0.0:8000"]
