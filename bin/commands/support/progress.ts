/**
 * Progress lines for a rescale execution, the same in deployed mode (Step Functions history) and --local
 * (aws-local-stepfunctions events): "… State" when a task starts, "✓ State (1.2 s): what it found" when it ends,
 * "✗ State: Error: cause" when it fails. Choice and Wait states are not printed (the Check lines show each poll).
 */
export interface StepTiming {
  state: string;
  ms: number;
  failed: boolean;
}

const get = (o: unknown, ...path: string[]): any => path.reduce<any>((v, k) => (v && typeof v === 'object' ? v[k] : undefined), o);

/** What a finished task found, one line, from the state machine's state after it. */
export function stepDetail(state: string, output: unknown): string | undefined {
  const o = output;
  switch (state) {
    case 'Validate':
      return get(o, 'plan', 'summary');
    case 'Lock':
      return get(o, 'lock', 'acquired') === false ? 'lock already ours' : 'lock taken';
    case 'EnsureCapacity':
    case 'ShrinkCapacity': {
      const c = get(o, state === 'EnsureCapacity' ? 'capacity' : 'shrink');
      return c ? `desired ${c.previous} -> ${c.desired}${c.clampedBy ? ` (${c.clampedBy})` : ''}` : undefined;
    }
    case 'CheckSlots':
      return get(o, 'slots', 'detail');
    case 'Savepoint':
      return get(o, 'savepoint', 'triggerId') && `trigger ${get(o, 'savepoint', 'triggerId')}${get(o, 'savepoint', 'stop') ? ' (stop-with-savepoint)' : ''}`;
    case 'PollSavepoint':
      return get(o, 'savepointStatus', 'detail');
    case 'Cancel':
      return get(o, 'cancel') && `Flink job ${get(o, 'cancel', 'jobId')} ${get(o, 'cancel', 'finalState')}`;
    case 'Resubmit':
      return get(o, 'resubmit') && `Flink job ${get(o, 'resubmit', 'jobId')} at parallelism ${get(o, 'resubmit', 'parallelism')} from ${get(o, 'resubmit', 'savepointPath')}`;
    case 'CheckRunning':
      return get(o, 'running', 'detail');
    case 'PutRequirements':
      return 'resource requirements set';
    case 'CheckParallelism':
      return get(o, 'inPlace', 'detail');
    case 'CheckDrained':
      return get(o, 'drain', 'detail');
    case 'ReleaseIdle': {
      const r = get(o, 'release');
      return r ? `released ${r.released.length ? r.released.join(', ') : 'nothing'} (desired now ${r.desired})` : undefined;
    }
    case 'Abort':
    case 'Rollback': {
      const r = get(o, 'recovery');
      return r ? `${r.outcome}${r.actions?.length ? `: ${r.actions.join('; ')}` : ''}` : undefined;
    }
    case 'Record':
    case 'RecordFailure':
      return get(o, 'record', 'outcome') && `outcome ${get(o, 'record', 'outcome')}`;
    case 'Notify':
    case 'NotifyFailure':
      return get(o, 'notify', 'subject');
    default:
      return undefined;
  }
}

export class ProgressPrinter {
  readonly steps: StepTiming[] = [];
  private readonly entered = new Map<string, number>();
  /** States whose last run failed (their exit, if the engine reports one, is not a success). */
  private readonly failed = new Set<string>();

  constructor(private readonly line: (s: string) => void = () => {}) {}

  enter(state: string, type: string, at: number): void {
    if (type !== 'Task') return;
    this.entered.set(state, at);
    this.failed.delete(state);
    this.line(`… ${state}`);
  }

  exit(state: string, type: string, at: number, output?: unknown): void {
    if (type !== 'Task' || this.failed.has(state)) return;
    const ms = at - (this.entered.get(state) ?? at);
    this.steps.push({ state, ms, failed: false });
    const detail = output !== undefined ? stepDetail(state, output) : undefined;
    this.line(`✓ ${state} (${(ms / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
  }

  fail(state: string | undefined, at: number, error: string, cause: string): void {
    if (state) {
      this.failed.add(state);
      const ms = at - (this.entered.get(state) ?? at);
      this.steps.push({ state, ms, failed: true });
    }
    this.line(`✗ ${state ? `${state}: ` : ''}${error}${cause ? `: ${cause}` : ''}`);
  }

  retry(state: string, attempt: number): void {
    this.failed.delete(state);
    this.line(`↻ ${state}: retry ${attempt}`);
  }
}

/** The readable message of a Lambda error cause (`{"errorType","errorMessage"}` JSON) or the raw text. */
export function readableCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const c = JSON.parse(cause) as { errorMessage?: string };
    if (typeof c?.errorMessage === 'string') return c.errorMessage;
  } catch {
    /* not JSON */
  }
  return cause;
}
