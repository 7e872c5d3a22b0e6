import { InvalidInputError, isRetryable, toStepError, causeMessage } from '../../functions/workflow/errors';
import { derivedId, parseRescaleInput } from '../../functions/workflow/validate';
import { FlinkApiError } from '../../functions/adapters/flink/client';

const problems = (input: unknown) => {
  try {
    parseRescaleInput(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).problems;
  }
  throw new Error('expected a rejection');
};

describe('execution input', () => {
  test('a manual execution needs only job + parallelism; relative changes and options are accepted', () => {
    expect(parseRescaleInput({ job: 'orders', parallelism: 8 })).toEqual({ job: 'orders', parallelism: 8 });
    for (const change of ['+2', '-1', 'x1.5', 'x2']) expect(parseRescaleInput({ job: 'orders', change }).change).toBe(change);
    expect(parseRescaleInput({ job: 'orders', parallelism: 4, mode: 'adaptive', reason: 'r', dryRun: true, startedBy: 'alice', respectCooldown: true, stopWithSavepoint: false })).toMatchObject({ mode: 'adaptive', dryRun: true });
  });

  test('every problem names its field and what is allowed', () => {
    expect(problems({ job: 'orders' })).toEqual([{ field: 'parallelism', message: expect.stringContaining('exactly one of "parallelism"') }]);
    expect(problems({ job: 'orders', parallelism: 2, change: '+1' })[0].message).toContain('exactly one of');
    expect(problems({ job: 'orders', parallelism: 0 })).toEqual([{ field: 'parallelism', message: 'must be an integer ≥ 1' }]);
    expect(problems({ job: 'orders', parallelism: 2.5 })[0]).toEqual({ field: 'parallelism', message: 'must be an integer ≥ 1' });
    expect(problems({ job: 'orders', change: 'double' })[0]).toEqual({ field: 'change', message: 'must be a relative change like "+2", "-1" or "x1.5"' });
    expect(problems({ job: 'orders', parallelism: 2, mode: 'fast' })[0]).toEqual({ field: 'mode', message: 'must be one of: "savepoint", "adaptive", "reactive"' });
    expect(problems({ job: 'Orders!', parallelism: 2 })[0].field).toBe('job');
    expect(problems({ job: 'orders', parallelism: 2, colour: 'blue' })[0].message).toMatch(/unknown field\(s\) "colour"; allowed: job, parallelism/);
    expect(problems('orders')[0].message).toMatch(/must be a JSON object/);
    const all = problems({ job: 'orders', parallelism: -1, dryRun: 'yes' });
    expect(all.map((p) => p.field).sort()).toEqual(['dryRun', 'parallelism']);
  });

  test('per-vertex targets: alone or with parallelism; never with change/taskManagers; keys and values checked', () => {
    expect(parseRescaleInput({ job: 'orders', vertexParallelism: { abc: 2 } })).toEqual({ job: 'orders', vertexParallelism: { abc: 2 } });
    expect(parseRescaleInput({ job: 'orders', parallelism: 4, vertexParallelism: { abc: 2 } }).parallelism).toBe(4);
    expect(problems({ job: 'orders', change: '+1', vertexParallelism: { abc: 2 } })).toEqual([{ field: 'vertexParallelism', message: expect.stringContaining('only alone or with "parallelism"') }]);
    expect(problems({ job: 'orders', vertexParallelism: { abc: 0 } })).toEqual([{ field: 'vertexParallelism.abc', message: 'must be a parallelism, an integer from 1 to 32768' }]);
    expect(problems({ job: 'orders', vertexParallelism: {} })[0]).toEqual({ field: 'vertexParallelism', message: 'must name 1 to 1000 vertices' });
    expect(problems({ job: 'orders', vertexParallelism: [2] })[0].field).toBe('vertexParallelism');
    expect(problems(JSON.parse('{"job":"orders","vertexParallelism":{"__proto__":2}}'))).toContainEqual({ field: 'vertexParallelism.__proto__', message: 'is not a vertex id or name' });
  });

  test('derived ids are 32 hex, stable per execution and distinct per purpose', () => {
    const a = derivedId('savepoint', 'arn:exec:1');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(derivedId('savepoint', 'arn:exec:1')).toBe(a);
    expect(derivedId('job', 'arn:exec:1')).not.toBe(a);
    expect(derivedId('savepoint', 'arn:exec:2')).not.toBe(a);
  });
});

describe('errors the state machine sees', () => {
  test('retryable failures become Transient; others keep a meaningful name', () => {
    const transient = new FlinkApiError({ call: 'job', status: 503, errors: ['leader election'], retryable: true });
    expect(toStepError(transient, 'checkRunning')).toMatchObject({ name: 'Transient', message: expect.stringContaining('checkRunning: Flink job failed') });
    const final = new FlinkApiError({ call: 'runJar', status: 400, errors: ['Could not execute application.'], retryable: false });
    expect(toStepError(final, 'resubmit').name).toBe('FlinkApiError');
    expect(isRetryable({ code: 'ECONNREFUSED' })).toBe(true);
    expect(isRetryable({ name: 'ThrottlingException' })).toBe(true);
    expect(isRetryable({ $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(isRetryable({ $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(toStepError('boom', 'x')).toMatchObject({ name: 'StepFailed', message: 'x: boom' });
  });

  test('a caught Lambda error reads back as its message', () => {
    expect(causeMessage({ Error: 'SavepointFailed', Cause: JSON.stringify({ errorType: 'SavepointFailed', errorMessage: 'disk full' }) })).toBe('SavepointFailed: disk full');
    expect(causeMessage({ Error: 'States.Timeout', Cause: '' })).toBe('States.Timeout');
    expect(causeMessage(undefined)).toBe('unknown error');
  });
});
