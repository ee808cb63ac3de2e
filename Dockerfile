# syntax=docker/dockerfile:1

# Stage 1: production dependencies only. esbuild is one of them: `npm run build` bundles the app with it.
# Install scripts stay off (esbuild takes its binary from its platform package).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the app, run by the unprivileged `node` user of the base image; its files stay root's (read-only to it).
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data \
    CATALOGUE_PATH=config/catalogue.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY machines ./machines
COPY src ./src
# The app as `npm start` runs it: src/main.ts bundled into dist/main.mjs (the packages stay in node_modules).
RUN npm run --silent build
# Migrations, applied at start (under an advisory lock when several instances start at once).
COPY drizzle ./drizzle
# The request catalogue; mount your own over /app/config (SIGHUP re-reads it).
COPY config ./config
# The embedded database's folder, used only without DATABASE_URL (one instance, on a volume).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1: SIGTERM and SIGINT stop the app cleanly, SIGHUP re-reads the catalogue.
# --max-semi-space-size=4: a smaller young generation of the JavaScript heap, as `npm start` runs it (see docs/performance.md).
CMD ["node", "--max-semi-space-size=4", "dist/main.mjs"]
