/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or only those whose name contains an argument),
 * each printing its own table. Speed and memory figures live here, never in timed tests.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const filter = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filter.length === 0 || filter.some((a) => f.includes(a)))
    .sort();
  for (const f of files) {
    process.stdout.write(`\n### ${f}\n`);
    const mod = await import(join(__dirname, f));
    if (typeof mod.run === 'function') await mod.run();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
