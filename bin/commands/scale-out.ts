import type { Command } from 'commander';
import type { CliIo } from './support/io';
import { addRunOptions, executeRescale, type RunOptions } from './support/execute';
import { intIn } from './support/options';

export function registerScaleOut(program: Command, io: CliIo): void {
  const cmd = program
    .command('scale-out')
    .description(
      'Add TaskManagers to a job and use them: capacity first, then parallelism = TaskManagers × slots (the rescale workflow; seed: scaleOutTaskManagers)',
    )
    .requiredOption('--task-managers <n>', 'how many TaskManagers to add (1 to 1000; the job\'s bounds.maxTaskManagers applies)', intIn('--task-managers', 1, 1000));
  addRunOptions(cmd).addHelpText(
    'after',
    `
The workflow input is {"job": NAME, "taskManagers": "+N", ...}: the workflow reads the capacity target's desired count,
adds N, and rescales the job to N × slotsPerTaskManager (minus slots other jobs hold) in the job's mode.

Example:
  $ flink-elastic scale-out --job orders --task-managers 2
  $ flink-elastic scale-out --job orders --task-managers 2 --dry-run --json
  $ flink-elastic scale-out --job orders --task-managers 1 --local --flink-url http://127.0.0.1:8081`,
  );
  cmd.action((opts: RunOptions & { taskManagers: number }, c: Command) => executeRescale(program, c, io, 'scale-out', { taskManagers: `+${opts.taskManagers}` }, opts));
}
