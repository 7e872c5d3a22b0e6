import { Option, type Command } from 'commander';
import type { CliIo } from './support/io';
import type { JobMode } from '../../functions/core/config';
import { addRunOptions, executeRescale, type RunOptions } from './support/execute';
import { intIn, oneOf } from './support/options';

export function registerRescale(program: Command, io: CliIo): void {
  const cmd = program
    .command('rescale')
    .description('Set a job\'s parallelism: savepoint → cancel → resubmit from it (or adaptive: in place); capacity follows (seed: adjustParallelism)')
    .requiredOption('--parallelism <p>', 'the new job parallelism, 1 to 32768 (the job\'s bounds and maxParallelism apply)', intIn('--parallelism', 1, 32768))
    .addOption(new Option('--mode <mode>', 'override the job\'s mode for this rescale').choices(['savepoint', 'adaptive']).argParser(oneOf('--mode', ['savepoint', 'adaptive'])));
  addRunOptions(cmd).addHelpText(
    'after',
    `
The workflow input is {"job": NAME, "parallelism": P, "mode": M, ...}, exactly what you would type in the Step Functions
console. A job is never cancelled before its savepoint completed; after a cancel any failure resubmits it from that
savepoint at the old parallelism.

Example:
  $ flink-elastic rescale --job orders --parallelism 8
  $ flink-elastic rescale --job clicks --parallelism 12 --mode adaptive --json
  $ flink-elastic rescale --job orders --parallelism 4 --local --flink-url http://127.0.0.1:8081 --poll-interval 1s`,
  );
  cmd.action((opts: RunOptions & { parallelism: number; mode?: JobMode }, c: Command) =>
    executeRescale(program, c, io, 'rescale', { parallelism: opts.parallelism, ...(opts.mode ? { mode: opts.mode } : {}) }, opts),
  );
}
