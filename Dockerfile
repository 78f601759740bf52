# One Colink node. Build: `docker build -t colink .`; run a cluster: `docker compose up`
# (see docs/operations.md). Node 24 on Debian 13: its uWS build (@btc-vision/uwebsockets.js)
# needs glibc 2.38 or later and ships linux x64 and arm64 binaries, so the image builds
# natively on either.
FROM node:24-trixie-slim

WORKDIR /app

# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
COPY client/package.json ./client/
COPY web/package.json ./web/
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY actors ./actors
COPY transport ./transport
COPY adapters ./adapters
COPY app ./app
COPY client ./client
COPY web ./web
# Compile (server, SDK, web client into web/dist), then drop the dev dependencies (TypeScript, test tools) from the image.
RUN npm run build && npm prune --omit=dev && npm cache clean --force \
  && mkdir -p /app/data && chown node:node /app/data

ENV NODE_ENV=production
USER node
EXPOSE 8080
# SIGTERM drains (closes connections with 4500, finishes commits, releases leases):
# node runs as PID 1 here and handles it itself.
CMD ["node", "dist/app/main.js"]
