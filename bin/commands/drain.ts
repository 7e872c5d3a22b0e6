import { InvalidArgumentError, type Command } from 'commander';
import type { CliIo } from './support/io';
import { addRunOptions, executeRescale, type RunOptions } from './support/execute';
import { durationIn } from './support/options';

const memberId = (v: string) => {
  if (!v.trim() || v.length > 300) throw new InvalidArgumentError(`--task-manager must be a TaskManager id or member id (instance id / pod name), 1 to 300 characters (got "${v}")`);
  return v.trim();
};

export function registerDrain(program: Command, io: CliIo): void {
  const cmd = program
    .command('drain')
    .description(
      'Gracefully shut down one named TaskManager: scale in by one and release exactly it, within the drain timeout (seed: gracefulShutdownTaskManager)',
    )
    .requiredOption('--task-manager <id>', 'the Flink TaskManager id or the capacity member (instance id / pod name); `status` lists both', memberId)
    .option('--drain-timeout <duration>', 'how long to wait for it to hold no slots, 10s to 2h (default: the job\'s drainTimeoutSeconds)', durationIn('--drain-timeout', 10, 7200));
  addRunOptions(cmd).addHelpText(
    'after',
    `
The workflow input is {"job": NAME, "taskManagers": "-1", "drainTaskManager": ID, ...}. The job's parallelism drops by
one TaskManager's slots and exactly the named TaskManager is released ("released" in --json), never another one. In
savepoint mode it is released between the cancel and the resubmit, when the job holds no slots; in adaptive mode once
it holds no slots. If it still holds slots at the drain timeout (another job on it, say), it is kept and the result
says why. A TaskManager that holds slots is never removed. Not available in mode reactive.

Example:
  $ flink-elastic drain --job orders --task-manager i-0abc123def4567890 --drain-timeout 5m
  $ flink-elastic drain --job orders --task-manager 10.0.1.23:6122-8f0c1a --local --flink-url http://127.0.0.1:8081`,
  );
  cmd.action((opts: RunOptions & { taskManager: string; drainTimeout?: number }, c: Command) =>
    executeRescale(
      program,
      c,
      io,
      'drain',
      { taskManagers: '-1', drainTaskManager: opts.taskManager, ...(opts.drainTimeout !== undefined ? { drainTimeoutSeconds: Math.round(opts.drainTimeout) } : {}) },
      opts,
    ),
  );
}
