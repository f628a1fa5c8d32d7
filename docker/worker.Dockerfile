# The GPU worker: the same worker code as `npm start` runs, on CUDA with onnxruntime's CUDA execution provider.
# Built by the CDK app as a container image asset (docker build -f docker/worker.Dockerfile .).
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04

ARG NODE_VERSION=20.19.5
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl xz-utils \
 && curl -fsSL "https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-x64.tar.xz" | tar -xJ -C /usr/local --strip-components=1 \
 && apt-get purge -y curl xz-utils && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 faultline

WORKDIR /app
COPY package.json package-lock.json ./
# No dependency's install script is needed (package.json's allowScripts); then onnxruntime's CUDA 12 native files,
# which a CPU-only install leaves out, fetched by its own installer whatever the npm version.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install \
 && npm cache clean --force
COPY functions ./functions
COPY models ./models
COPY bin ./bin
# The backbone is fetched from its manifest's URL and its digest checked at build time, so workers start ready.
RUN node bin/faultline.js models && chown -R faultline /app/.cache

ENV NODE_ENV=production \
    FAULTLINE_EXECUTION_PROVIDERS=cuda,cpu \
    FAULTLINE_MODEL_CACHE_DIR=/tmp/faultline-models
USER faultline
ENTRYPOINT ["node", "--import", "tsx", "functions/worker/main.ts"]
