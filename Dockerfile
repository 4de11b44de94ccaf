# syntax=docker/dockerfile:1
# Network traffic anomaly detector. The steps mirror README "Set-up in detail":
#   1. Debian packages canvas builds against (Cairo, Pango, JPEG, GIF, SVG, pixman) + a compiler,
#   2. npm ci (canvas compiles from source where no prebuilt binary can be downloaded),
#   3. npm run build (TypeScript → dist/), then drop dev dependencies,
#   4. run: Cairo runtime libraries only, non-root user, data in volumes, /health checked.

# ---- build stage: full toolchain and -dev headers -------------------------------------------
FROM node:20-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev libpixman-1-dev \
      build-essential python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund \
 && node -e "require('canvas')"
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

# ---- runtime stage: shared libraries only --------------------------------------------------
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcairo2 libpango-1.0-0 libpangocairo-1.0-0 libjpeg62-turbo libgif7 librsvg2-2 \
      libpixman-1-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PORT=5000 \
    HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json config.json ./
COPY views ./views
COPY public ./public
RUN mkdir -p uploads outputs logs && chown -R node:node uploads outputs logs
USER node
EXPOSE 5000
VOLUME ["/app/uploads", "/app/outputs", "/app/logs"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
