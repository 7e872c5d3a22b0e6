/**
 * Shared set-up of the real-Flink tier: the Flink versions to run, a real cluster with the test job, the synthesized
 * rescale workflow run in-process (aws-local-stepfunctions, the real step handlers) against it with the TaskManager
 * processes as capacity target, and the measured figures each test records (reports/real-flink/figures.jsonl, printed
 * by .ci/run after the tier).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import type { CapacityTarget } from '../../functions/adapters/targets/types';
import { parseConfig, type Config, type JobConfig } from '../../functions/core/config';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { FileStateStore } from '../../local/file-state-store';
import { pinnedVersions } from '../../local/real-flink/distribution';
import { RealFlinkJob, type RealFlinkJobOptions } from '../../local/real-flink/harness';
import { LocalProcessTarget } from '../../local/real-flink/process-target';
import { runWorkflowLocally, synthesizeRescaleAsl, type LocalRunResult, type RunEvent } from '../../local/workflow-runner';

/** FLINK_TIER_VERSIONS=1.20.5,2.3.0 (default: every pinned version). */
export const TIER_VERSIONS: string[] = (process.env.FLINK_TIER_VERSIONS ?? pinnedVersions().join(',')).split(',').map((v) => v.trim()).filter(Boolean);

const FIGURES = resolve(__dirname, '..', '..', 'reports', 'real-flink', 'figures.jsonl');

/** Appends one measured figure line (test, version, what was measured) for the tier's summary. */
export function recordFigures(test: string, version: string, figures: Record<string, unknown>): void {
  mkdirSync(join(FIGURES, '..'), { recursive: true });
  appendFileSync(FIGURES, `${JSON.stringify({ at: new Date().toISOString(), test, version, ...figures })}\n`);
}

export interface Notification {
  subject: string;
  message: string;
}

export interface WorkflowRun extends LocalRunResult {
  states: string[];
  ms: number;
  notification?: Notification;
}

/** A real cluster running the test job, and the rescale workflow wired to it. */
export class Rig {
  readonly notifications: Notification[] = [];
  readonly store: FileStateStore;
  private readonly stateDir = mkdtempSync(join(tmpdir(), 'fe-flink-tier-'));
  config!: Config;
  jobConfig!: JobConfig;
  flink!: FlinkRestClient;
  target!: CapacityTarget;
  private constructor(readonly job: RealFlinkJob) {
    this.store = new FileStateStore(join(this.stateDir, 'state.json'));
  }

  static async start(version: string, opts: RealFlinkJobOptions = {}, configOver: Parameters<RealFlinkJob['configDoc']>[0] = {}): Promise<Rig> {
    const job = await RealFlinkJob.start({ version, taskManagers: 1, parallelism: 1, rate: 500, costUs: 100, ...opts });
    const rig = new Rig(job);
    rig.configure(configOver);
    return rig;
  }

  /** (Re)builds the config from the job's config document with overrides. */
  configure(over: Parameters<RealFlinkJob['configDoc']>[0] = {}, edit?: (doc: Record<string, any>) => void): void {
    const doc = this.job.configDoc(over);
    edit?.(doc);
    this.config = parseConfig(doc, 'real-Flink tier');
    this.jobConfig = this.config.jobs[0];
    this.flink = new FlinkRestClient({ baseUrl: this.job.cluster.restUrl, timeoutMs: 10_000, retries: 3, retryDelayMs: 500, version: this.jobConfig.flink.version });
    this.target = new LocalProcessTarget({ cluster: this.job.cluster, flink: this.flink, bounds: this.jobConfig.bounds });
  }

  deps(over: Partial<WorkflowDeps> = {}): WorkflowDeps {
    const sns = new SNSClient({ region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    sns.send = (async (c: { input: { Subject?: string; Message?: string } }) => {
      this.notifications.push({ subject: c.input.Subject ?? '', message: c.input.Message ?? '' });
      return { MessageId: 'local', $metadata: {} };
    }) as never;
    return {
      config: this.config,
      store: this.store,
      flink: () => this.flink,
      target: () => this.target,
      sns,
      topicArn: 'arn:aws:sns:local:000000000000:real-flink-tier',
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      log: { info: () => {}, warn: () => {}, error: () => {} },
      inlinePollIntervalSeconds: 1,
      ...over,
    };
  }

  /** Runs the synthesized rescale workflow once (Wait states 1 s; their bounds still hold). */
  async rescale(input: Record<string, unknown>, opts: { deps?: Partial<WorkflowDeps>; onEvent?: (e: RunEvent) => void } = {}): Promise<WorkflowRun> {
    const asl = synthesizeRescaleAsl(this.config);
    const states: string[] = [];
    const before = this.notifications.length;
    const t0 = Date.now();
    const r = await runWorkflowLocally({
      asl,
      deps: this.deps(opts.deps),
      input: { job: this.jobConfig.name, reason: 'real-Flink tier', startedBy: 'test:flink', ...input },
      executionName: `tier-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
      stateMachineName: `${this.config.deployment.stackName}-rescale`,
      waitSeconds: 1,
      onEvent: (e) => {
        if (e.type === 'entered') states.push(e.state);
        opts.onEvent?.(e);
      },
    });
    return { ...r, states, ms: Date.now() - t0, notification: this.notifications.slice(before).pop() };
  }

  async stop(keepLogs: boolean): Promise<void> {
    await this.job.stop();
    rmSync(this.stateDir, { recursive: true, force: true });
    if (!keepLogs) rmSync(join(this.job.cluster.workDir, '..'), { recursive: true, force: true });
  }
}

/** Seconds of each phase the notification reports ("Phases: capacity 5.2 s, savepoint 2.3 s, restart 6.9 s, …"). */
export function phases(n?: Notification): Record<string, number> {
  const line = n?.message.split('\n').find((l) => l.startsWith('Phases:')) ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+) ([\d.]+) s/g)].map((m) => [m[1], Number(m[2])]));
}

/**
 * Jest lifecycle for one rig per describe block: started in beforeAll, stopped in afterAll. Tests written with the
 * returned `test` mark the rig failed when they throw: then the cluster's work folder (logs, config, savepoints) is
 * kept and its path printed.
 */
export function useRig(version: string, start: () => Promise<Rig>): { rig: () => Rig; test: (name: string, fn: () => Promise<void>, timeoutMs?: number) => void } {
  let rig: Rig | undefined;
  let failed = false;
  beforeAll(async () => {
    try {
      rig = await start();
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 5 * 60_000);
  afterAll(async () => {
    if (!rig) return;
    if (failed) process.stderr.write(`real-Flink tier (${version}): cluster logs kept in ${rig.job.cluster.logDir}\n`);
    await rig.stop(failed);
  }, 120_000);
  return {
    rig: () => {
      if (!rig) throw new Error('the real Flink cluster did not start');
      return rig;
    },
    test: (name, fn, timeoutMs) =>
      test(
        name,
        async () => {
          try {
            await fn();
          } catch (e) {
            failed = true;
            throw e;
          }
        },
        timeoutMs,
      ),
  };
}
