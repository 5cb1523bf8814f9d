# syntax=docker/dockerfile:1
# The workspace's command-line tools (replay, backtest, analyze) with all their dependencies: the compose `demo`
# profile replays the bundled scenario with it. Not a production image: it keeps dev dependencies and every source.
# Build from the repository root: docker build -f infra/docker/tools.Dockerfile -t tingfeng/tools .

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12.4.2
WORKDIR /repo
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY patches ./patches
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Same path as in the build stage: pnpm's node_modules links are relative to it.
WORKDIR /repo
COPY --from=build /repo ./
USER node
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["scripts/replay.ts", "--help"]
