import { defineConfig } from 'vitest/config';

// Integration tests run real containers as root; they share /sys/fs/cgroup and
// the host mount table, so files run one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
