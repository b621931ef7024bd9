import { defineConfig } from "vitest/config";

// End-to-end: a real Chromium (playwright-core) against the real local stack that
// scripts/e2e_stack.py starts and names in E2E_BASE_URL. One file at a time: the scenarios
// share the stack, and the machine has two cores. The first-run tests (*.demo.ts) need the
// demo desk: `scripts/e2e_stack.py --demo` sets E2E_DEMO and runs those instead.
export default defineConfig({
  test: {
    environment: "node",
    include: process.env.E2E_DEMO ? ["e2e/**/*.demo.ts"] : ["e2e/**/*.e2e.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // A round trip and a refetch take longer than expect.poll's default second on a busy
    // machine (at a load of 15 on two cores, a sign-in alone took 2 s and a two-request
    // form 5 s); the limit costs time only when a test fails. The live tests keep their
    // own, tighter, limits (LIVE_MS).
    expect: { poll: { timeout: 15_000 } },
    sequence: { concurrent: false },
  },
});
