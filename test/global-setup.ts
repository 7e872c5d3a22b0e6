/**
 * jest globalSetup: installs the pinned moto (scripts/moto-server.sh, from PyPI with --require-hashes, into
 * .cache/moto/venv) before any test file runs, so a fresh clone's `npm test` gets it and a missing Python or an
 * unreachable PyPI fails the run at once with one clear message instead of test files failing one by one. Nothing is
 * skipped: the moto tests need it. After the first install this takes about 0.1 s.
 */
import { installMoto } from './support/moto';

export default async function globalSetup(): Promise<void> {
  try {
    await installMoto();
  } catch (e) {
    throw new Error(
      `moto could not be installed, and the AWS adapter tests run against it (test/README.md).\n` +
        `Needs Python 3 with venv and pip on PATH (or PYTHON=...), and PyPI reachable for the first install.\n` +
        `Run \`bash scripts/moto-server.sh\` to see the error on its own.\n${(e as Error).message}`,
    );
  }
}
