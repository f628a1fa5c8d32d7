import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The integration tests train real models on 2 CPU cores; they need more than the default 5 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // onnxruntime already uses both cores; running test files side by side only makes them contend.
    fileParallelism: false,
    // The AWS SDK's notice that its 2027 releases need Node 22 (the locked versions run on Node 20).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
