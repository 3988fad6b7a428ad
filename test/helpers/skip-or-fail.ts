// The one rule for tests that need something npm does not install (Debian's PyTorch, torchvision and
// onnx for the parity and onnx.checker tests, the Fashion-MNIST files, Chromium for the browser tests):
// on a developer's machine they skip with the printed reason; in CI (CI=true, or
// ATTNVGG_REQUIRE_TEST_DEPS=1, which .ci/run sets) a missing one fails the run and names the package, so
// a machine without apt-get cannot pass with those tests quietly skipped. Tests whose dependency CI
// cannot install (the Electron binary, native TensorFlow) do not use this and stay skippable.

/** The variable .ci/run exports so that these tests cannot skip. */
export const REQUIRE_TEST_DEPS = 'ATTNVGG_REQUIRE_TEST_DEPS';

/** True where a missing test dependency is a failure, not a skip. */
export function testDepsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = (env.CI ?? '').toLowerCase();
  return env[REQUIRE_TEST_DEPS] === '1' || ci === 'true' || ci === '1';
}

export class MissingTestDependency extends Error {
  override name = 'MissingTestDependency';
}

/**
 * `missing`: why a test cannot run here, naming the package (or null when it can). Returns what
 * node:test's `skip` option and `t.skip` take (false: run it); where dependencies are required (see
 * testDepsRequired), throws instead, so the test file or the test fails with the package's name.
 */
export function skipOrFail(missing: string | null, env: NodeJS.ProcessEnv = process.env): string | false {
  if (missing === null) return false;
  if (testDepsRequired(env))
    throw new MissingTestDependency(
      `This run must not skip tests (CI=true or ${REQUIRE_TEST_DEPS}=1), but ${missing}. Install it; ` +
        `outside CI, unset CI and ${REQUIRE_TEST_DEPS} to let the test skip instead.`,
    );
  return missing;
}
