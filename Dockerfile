# The entraide relay. Build: docker build -t entraide .   Run: see docker-compose.yml (behind Caddy).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
COPY shared ./shared
COPY server ./server
COPY client ./client
COPY bench ./bench
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ENTRAIDE_RELAY_DATA=/data
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 7800
USER node
# Plain HTTP inside the container, for a TLS-terminating proxy in front (docker-compose.yml's Caddy):
# set ENTRAIDE_PUBLIC_URL to the https:// URL it serves. For TLS in the relay itself, run
# `relay start --host 0.0.0.0 --data /data --tls-cert F --tls-key F` with the files mounted instead.
CMD ["node", "bin/entraide.js", "relay", "start", "--host", "0.0.0.0", "--data", "/data", "--behind-proxy"]
