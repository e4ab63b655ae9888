# One image for the sidecar (`serve`), the delegate agent (`delegate`) and the anomaly
# backend (`node backends/anomaly-detection/bin/anomaly-backend`). It also carries the UI
# extension's tar (/app/extension/extension-anomaly.tar and .sha256, the files a release
# publishes): the Component's init container unpacks it into /tmp/extensions/, so an
# install downloads nothing and the tab always matches the sidecar's version.
#   docker build -t ghcr.io/argocd-extension-proxy/argocd-extension-proxy:0.1.0 .

# Build: the whole toolchain, compiled to dist/.
FROM node:22.11.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proxy-server/src proxy-server/src
COPY backends/anomaly-detection/src backends/anomaly-detection/src
COPY scripts scripts
COPY test/helpers test/helpers
RUN npx tsc -p tsconfig.build.json
COPY extension extension
RUN npm run build:extension

# Runtime: production dependencies, the compiled sidecar and backend and the extension's
# tar only (no tests, no scripts, no dev dependencies), as the image's unprivileged node
# user. `tar` (for the init container) is in the Debian base.
FROM node:22.11.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/proxy-server dist/proxy-server
COPY --from=build /src/dist/backends dist/backends
COPY --from=build /src/dist/extension/extension-anomaly.tar /src/dist/extension/extension-anomaly.tar.sha256 extension/
COPY proxy-server/bin proxy-server/bin
COPY backends/anomaly-detection/bin backends/anomaly-detection/bin
USER 1000:1000
EXPOSE 8090 8091 8092
# V8 flags: proxy-server/src/node-flags.ts says why (a capped young generation keeps memory
# steady under load; no pretenuring keeps request objects out of the old generation); a
# test keeps this line equal to that list.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "proxy-server/bin/argocd-extension-proxy"]
CMD ["--help"]
