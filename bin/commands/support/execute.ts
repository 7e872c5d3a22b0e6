/**
 * What scale-out, scale-in, rescale and drain share: build the workflow's execution input (the same one a console
 * user types), check it, then either start the deployed state machine and follow it, or run the synthesized state
 * machine in this process (--local). Prints progress, then the outcome (the notification's subject and body).
 */
import { resolve, dirname } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import type { CliIo } from './io';
import { configPath, loadConfig } from '../../../functions/adapters/config-file';
import type { Config, JobConfig } from '../../../functions/core/config';
import { silentLogger, type WorkflowDeps } from '../../../functions/workflow/deps';
import { InvalidInputError } from '../../../functions/workflow/errors';
import { formatNotification } from '../../../functions/workflow/finish';
import type { RescaleInput } from '../../../functions/workflow/types';
import { parseRescaleInput } from '../../../functions/workflow/validate';
import {
  addPollOption,
  addWhereOptions,
  awsOf,
  checkWhere,
  defaultServices,
  localFlink,
  localSns,
  localStore,
  localTarget,
  type CliServices,
  type WhereOptions,
} from './context';
import { followExecution, resolveDeployment } from './deployment';
import { CommandFailed } from './exit';
import { jsonText } from './json';
import { ProgressPrinter, readableCause, type StepTiming } from './progress';

/** Workflow input fields → the CLI options that set them, so errors name what the user typed. */
const FIELD_OPTION: Record<string, string> = {
  parallelism: '--parallelism',
  taskManagers: '--task-managers',
  drainTimeoutSeconds: '--drain-timeout',
  drainTaskManager: '--task-manager',
  mode: '--mode',
  reason: '--reason',
  job: '--job',
};

export interface RunOptions extends WhereOptions {
  job: string;
  dryRun?: boolean;
  wait: boolean;
  reason?: string;
}

export function addRunOptions(cmd: Command): Command {
  cmd
    .requiredOption('--job <name>', 'job name from the config')
    .option('--dry-run', 'plan and explain only: the workflow validates and records a decision, changes nothing')
    .option('--no-wait', 'deployed mode: print the execution ARN and return instead of following it')
    .option('--reason <text>', 'why (kept in the history and the notification)')
    .option('--json', 'print the result as JSON (progress goes to stderr)');
  addWhereOptions(cmd);
  return addPollOption(cmd);
}

/** The JSON printed by scale-out / scale-in / rescale / drain with --json (documented in docs/cli.md). */
export interface RunReport {
  command: string;
  job: string;
  where: 'deployed' | 'local';
  executionName: string;
  executionArn: string;
  input: RescaleInput;
  /** SUCCEEDED | FAILED | TIMED_OUT | ABORTED, or RUNNING with --no-wait. */
  status: string;
  /** The workflow's outcome (succeeded, dry-run, no-change, rejected, busy, cooldown, failed-untouched, ...). */
  outcome?: string;
  subject?: string;
  message?: string;
  plan?: { mode: string; direction: string; summary: string; from: { parallelism: number; taskManagers: number }; to: { parallelism: number; taskManagers: number } };
  released?: string[];
  savepointPath?: string;
  steps: StepTiming[];
  error?: { error?: string; cause?: string };
}

export function executionName(job: string, command: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  const rand = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0');
  return `${job}-${command}-${stamp}-${rand}`.slice(0, 80);
}

function loadJob(program: Command, cmd: Command, name: string): { config: Config; job: JobConfig } {
  const config = loadConfig(configPath(program.opts().config));
  const job = config.jobs.find((j) => j.name === name);
  if (!job) cmd.error(`error: --job "${name}" is not in the config; configured jobs: ${config.jobs.map((j) => j.name).join(', ')}`, { exitCode: 2 });
  return { config, job: job! };
}

export async function executeRescale(
  program: Command,
  cmd: Command,
  io: CliIo,
  command: string,
  request: Omit<RescaleInput, 'job' | 'startedBy' | 'reason' | 'dryRun'>,
  o: RunOptions,
): Promise<void> {
  checkWhere(cmd, o);
  if (o.local && !o.wait) cmd.error('error: --no-wait needs the deployed stack: a --local run lives in this process', { exitCode: 2 });
  const services: CliServices = { ...defaultServices, ...io.services };
  const { config, job } = loadJob(program, cmd, o.job);
  const raw: RescaleInput = {
    job: job.name,
    ...request,
    reason: o.reason ?? `flink-elastic ${command} (CLI)`,
    startedBy: services.user(),
    ...(o.dryRun ? { dryRun: true } : {}),
  };
  let input: RescaleInput;
  try {
    input = parseRescaleInput(raw);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      cmd.error(`error: ${e.problems.map((p) => `${FIELD_OPTION[p.field] ?? p.field}: ${p.message}`).join('; ')}`, { exitCode: 2 });
    }
    throw e;
  }
  const progressOut = o.json ? io.err : io.out;
  const name = executionName(job.name, command, services.now());
  const report: RunReport = { command, job: job.name, where: o.local ? 'local' : 'deployed', executionName: name, executionArn: '', input, status: 'RUNNING', steps: [] };
  let finalState: unknown;

  if (!o.local) {
    const aws = awsOf(o);
    const stackName = o.stack ?? config.deployment.stackName;
    const dep = await resolveDeployment(stackName, services.cloudFormation(aws), aws);
    const sfn = services.sfn(aws);
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: dep.stateMachineArn, name, input: JSON.stringify(input) }));
    report.executionArn = started.executionArn ?? `${dep.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (!o.wait) {
      if (o.json) io.out(jsonText(report));
      else io.out(report.executionArn);
      return;
    }
    progressOut(`Started ${report.executionArn}`);
    progressOut(`  input: ${JSON.stringify(input)}`);
    const r = await followExecution(sfn, report.executionArn, { onProgress: progressOut, sleep: services.sleep });
    report.status = r.status;
    report.steps = r.steps;
    finalState = r.finalState;
    if (r.status !== 'SUCCEEDED') report.error = { error: r.error, cause: readableCause(r.cause) };
  } else {
    const flink = localFlink(o.flinkUrl!, job);
    const { target, note } = await localTarget(o, job, flink, services, !!o.dryRun);
    const stateFile = resolve(o.stateFile);
    const asl = await services.rescaleAsl(config, dirname(stateFile), () => progressOut('Synthesizing the rescale state machine (first run for this config; cached afterwards)…'));
    const deps: WorkflowDeps = {
      config,
      store: localStore(o),
      flink: () => flink,
      target: () => target,
      sns: localSns(),
      jars: services.jarSource(awsOf(o)),
      topicArn: 'arn:aws:sns:local:000000000000:flink-elastic-local',
      now: services.now,
      sleep: services.sleep,
      log: silentLogger,
      ...(o.pollInterval !== undefined ? { inlinePollIntervalSeconds: Math.min(2, o.pollInterval) } : {}),
    };
    progressOut(`Running the rescale workflow locally against ${o.flinkUrl}`);
    progressOut(`  ${note}; state: ${stateFile}`);
    progressOut(`  input: ${JSON.stringify(input)}`);
    const printer = new ProgressPrinter(progressOut);
    // Loaded only here: aws-cdk-lib and aws-local-stepfunctions are heavy, and only --local runs need them.
    const { runWorkflowLocally } = await import('../../../local/workflow-runner');
    const r = await runWorkflowLocally({
      asl,
      deps,
      input,
      executionName: name,
      stateMachineName: `${config.deployment.stackName}-rescale`,
      waitSeconds: o.pollInterval,
      onEvent: (e) => {
        if (e.type === 'entered') printer.enter(e.state, e.stateType, e.at);
        else if (e.type === 'exited') printer.exit(e.state, e.stateType, e.at, e.output);
        else if (e.type === 'failed') printer.fail(e.state, e.at, e.error, readableCause(e.cause));
        else printer.retry(e.state, e.attempt);
      },
    });
    report.executionArn = r.executionArn;
    report.status = r.status;
    report.steps = printer.steps;
    finalState = r.output;
    if (r.status !== 'SUCCEEDED') report.error = { error: r.error, cause: readableCause(r.cause) };
  }

  summarize(report, finalState);
  if (o.json) io.out(jsonText(report));
  else {
    io.out('');
    io.out(`${report.status}: ${report.subject ?? report.error?.cause ?? ''}`);
    if (report.message) io.out(report.message);
    else io.out(`execution: ${report.executionArn}`);
  }
  if (report.status !== 'SUCCEEDED') throw new CommandFailed(1);
}

function summarize(report: RunReport, finalState: unknown): void {
  const s = finalState as any;
  if (!s || typeof s !== 'object') return;
  const msg = formatNotification(s, { id: s.plan?.owner ?? report.executionArn, name: report.executionName });
  report.outcome = msg.outcome;
  report.subject = msg.subject;
  report.message = msg.body;
  if (s.plan) {
    report.plan = {
      mode: s.plan.mode,
      direction: s.plan.direction,
      summary: s.plan.summary,
      from: { parallelism: s.plan.from.parallelism, taskManagers: s.plan.from.taskManagers },
      to: { parallelism: s.plan.to.parallelism, taskManagers: s.plan.to.taskManagers },
    };
  }
  if (s.release) report.released = s.release.released;
  const sp = s.savepointStatus?.location ?? s.recovery?.savepointPath ?? s.record?.savepointPath;
  if (sp) report.savepointPath = sp;
}

