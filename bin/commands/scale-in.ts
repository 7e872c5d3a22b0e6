import type { Command } from 'commander';
import type { CliIo } from './support/io';
import { addRunOptions, executeRescale, type RunOptions } from './support/execute';
import { durationIn, intIn } from './support/options';

export function registerScaleIn(program: Command, io: CliIo): void {
  const cmd = program
    .command('scale-in')
    .description(
      'Remove TaskManagers gracefully: parallelism first, then wait until the surplus TaskManagers hold no slots (or the drain timeout), then release exactly those (seed: scaleInTaskManagers)',
    )
    .requiredOption('--task-managers <n>', 'how many TaskManagers to remove (1 to 1000; the job\'s bounds.minTaskManagers applies)', intIn('--task-managers', 1, 1000))
    .option('--drain-timeout <duration>', 'how long to wait for the surplus TaskManagers to hold no slots, 10s to 2h (default: the job\'s drainTimeoutSeconds)', durationIn('--drain-timeout', 10, 7200));
  addRunOptions(cmd).addHelpText(
    'after',
    `
The workflow input is {"job": NAME, "taskManagers": "-N", "drainTimeoutSeconds": S, ...}. TaskManagers that still hold
slots at the drain timeout are kept (never removed busy); the outcome says how many.

Example:
  $ flink-elastic scale-in --job orders --task-managers 1 --drain-timeout 5m
  $ flink-elastic scale-in --job orders --task-managers 2 --no-wait`,
  );
  cmd.action((opts: RunOptions & { taskManagers: number; drainTimeout?: number }, c: Command) =>
    executeRescale(program, c, io, 'scale-in', { taskManagers: `-${opts.taskManagers}`, ...(opts.drainTimeout !== undefined ? { drainTimeoutSeconds: Math.round(opts.drainTimeout) } : {}) }, opts),
  );
}
