import { InvalidArgumentError, type Command } from 'commander';
import type { CliIo } from './support/io';
import { EMULATOR_VERSIONS, startEmulator } from '../../local/emulator';
import type { SchedulerKind } from '../../local/emulator';

interface EmulatorOpts {
  port: number;
  flinkVersion: string;
  taskManagers: number;
  slots: number;
  scheduler: SchedulerKind;
  job?: string;
  parallelism: number;
  inputRate: number;
  capacity: number;
  savepointDir: string;
  timeScale: number;
  statusEvery: number;
  runFor?: number;
}

const intIn = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};
const numIn = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
  return n;
};
const oneOf = (name: string, values: readonly string[]) => (v: string) => {
  if (!values.includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
  return v;
};

export function registerEmulator(program: Command, io: CliIo): void {
  program
    .command('emulator')
    .description('Run the local Flink JobManager emulator (REST API on 127.0.0.1) in real time, optionally sped up')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 = any free port)', intIn('--port', 0, 65535), 8081)
    .option('--flink-version <version>', `Flink version profile: ${EMULATOR_VERSIONS.join(', ')}`, oneOf('--flink-version', EMULATOR_VERSIONS), '1.19')
    .option('--task-managers <n>', 'TaskManagers registered at start', intIn('--task-managers', 0, 1000), 2)
    .option('--slots <n>', 'slots per TaskManager (taskmanager.numberOfTaskSlots)', intIn('--slots', 1, 256), 2)
    .option('--scheduler <kind>', 'default | adaptive | reactive', oneOf('--scheduler', ['default', 'adaptive', 'reactive']), 'default')
    .option('--job <name>', 'upload a jar and start a job with this name (source → keyed operator → sink)')
    .option('--parallelism <n>', 'parallelism of --job', intIn('--parallelism', 1, 128), 2)
    .option('--input-rate <records/s>', 'records per second arriving for --job', numIn('--input-rate', 0, 1e9), 1000)
    .option('--capacity <records/s>', 'records per second one keyed-operator subtask of --job handles', numIn('--capacity', 1, 1e9), 1000)
    .option('--savepoint-dir <uri>', 'state.savepoints.dir', 'file:///tmp/flink-savepoints')
    .option('--time-scale <n>', 'virtual seconds per real second (e.g. 60 = one minute per second)', numIn('--time-scale', 0.1, 100_000), 1)
    .option('--status-every <seconds>', 'print a status line every N real seconds (0 = never)', numIn('--status-every', 0, 3600), 10)
    .option('--run-for <seconds>', 'stop after N real seconds (default: until Ctrl-C)', numIn('--run-for', 0, 1e7))
    .addHelpText(
      'after',
      `
Non-Flink control endpoints (curl them to drive the emulated world):
  POST   /emulator/advance?ms=60000                      advance virtual time
  POST   /emulator/taskmanagers?count=1                  register TaskManagers
  DELETE /emulator/taskmanagers/<id>?mode=stop|kill      graceful stop, or kill (heartbeat timeout)
  PUT    /emulator/streams/<job>/rate?recordsPerSecond=N change the input rate
  POST   /emulator/faults?kind=savepoint|cancel|run|unavailable|slow&count=N[&ms=M]
  GET    /emulator/state                                 jobs, backlog, TaskManagers, CPU

Example:
  $ flink-elastic emulator --port 8081 --flink-version 1.19 --task-managers 2 --slots 2 --job demo --time-scale 10
  $ curl -s localhost:8081/overview`,
    )
    .action(async (opts: EmulatorOpts) => {
      const emu = await startEmulator({
        port: opts.port,
        version: opts.flinkVersion,
        taskManagers: opts.taskManagers,
        slotsPerTaskManager: opts.slots,
        scheduler: opts.scheduler,
        savepointDir: opts.savepointDir,
        tickMs: 1000,
      });
      const m = emu.model;
      let jobId: string | undefined;
      if (opts.job) {
        const job = m.startJob({ name: opts.job, parallelism: opts.parallelism, inputRate: opts.inputRate, program: { operatorCapacityPerSubtask: opts.capacity } });
        jobId = job.id;
      }
      const u = emu.url;
      io.out(`Flink ${m.profile.version} emulator (${opts.scheduler} scheduler) listening on ${u}`);
      io.out(`  ${m.taskManagers.length} TaskManager(s) x ${opts.slots} slot(s); virtual time runs ${opts.timeScale}x real time`);
      if (jobId) io.out(`  job "${opts.job}" ${jobId} at parallelism ${opts.parallelism}, input ${opts.inputRate} records/s, ${opts.capacity} records/s per keyed subtask`);
      io.out('Try:');
      io.out(`  curl -s ${u}/overview`);
      io.out(`  curl -s ${u}/taskmanagers`);
      io.out(`  curl -s ${u}/jobs/overview`);
      if (jobId) {
        io.out(`  curl -s ${u}/jobs/${jobId}`);
        io.out(`  curl -s -X POST -H 'Content-Type: application/json' -d '{"target-directory":"${opts.savepointDir}"}' ${u}/jobs/${jobId}/savepoints`);
        io.out(`  curl -s -X PATCH '${u}/jobs/${jobId}?mode=cancel'`);
      }
      io.out(`  curl -s -X POST '${u}/emulator/taskmanagers?count=1'`);
      io.out(`  curl -s ${u}/emulator/state`);
      io.out('Press Ctrl-C to stop.');

      const stepRealMs = 100;
      const ticker = setInterval(() => m.clock.advance(stepRealMs * opts.timeScale), stepRealMs);
      const status = () => {
        const jobs = m.jobs
          .filter((j) => j.state !== 'CANCELED' && j.state !== 'FINISHED')
          .map((j) => `${j.name} ${j.state} p=${j.vertices.map((v) => v.parallelism).join('/')} backlog=${Math.round(m.stream(j.stream).produced - j.app.offset)}`);
        const free = m.taskManagers.reduce((a, t) => a + m.freeSlots(t), 0);
        const total = m.taskManagers.reduce((a, t) => a + t.slots.length, 0);
        io.out(`[t+${Math.round(m.clock.elapsed() / 1000)}s] TMs ${m.taskManagers.length}, slots ${free}/${total} free; ${jobs.join('; ') || 'no jobs'}`);
      };
      const statusTimer = opts.statusEvery > 0 ? setInterval(status, opts.statusEvery * 1000) : undefined;
      let stop = () => {};
      await new Promise<void>((resolve) => {
        stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (opts.runFor !== undefined) setTimeout(stop, opts.runFor * 1000);
      });
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      clearInterval(ticker);
      if (statusTimer) clearInterval(statusTimer);
      status();
      await emu.close();
      io.out('emulator stopped');
    });
}
