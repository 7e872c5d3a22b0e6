/** Execution input fields for TaskManager-count requests (CLI scale-out / scale-in / drain). */
import { InvalidInputError } from '../../functions/workflow/errors';
import { parseRescaleInput } from '../../functions/workflow/validate';

const problems = (input: unknown) => {
  try {
    parseRescaleInput(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as InvalidInputError).problems;
  }
  throw new Error('expected a rejection');
};

test('taskManagers takes an absolute count or a relative change; drain options ride along', () => {
  expect(parseRescaleInput({ job: 'orders', taskManagers: 4 })).toEqual({ job: 'orders', taskManagers: 4 });
  expect(parseRescaleInput({ job: 'orders', taskManagers: '+2', drainTimeoutSeconds: 120 })).toEqual({ job: 'orders', taskManagers: '+2', drainTimeoutSeconds: 120 });
  expect(parseRescaleInput({ job: 'orders', taskManagers: '-1', drainTaskManager: 'tm-1' }).drainTaskManager).toBe('tm-1');
});

test('bad TaskManager requests name the field and the allowed form', () => {
  expect(problems({ job: 'orders', taskManagers: 'x2' })[0]).toEqual({ field: 'taskManagers', message: expect.stringContaining('relative change like "+2"') });
  expect(problems({ job: 'orders', taskManagers: 2.5 })[0].field).toBe('taskManagers');
  expect(problems({ job: 'orders', taskManagers: 2, parallelism: 4 })[0].message).toContain('exactly one of "parallelism"');
  expect(problems({ job: 'orders', parallelism: 4, drainTimeoutSeconds: 5 })[0]).toEqual({ field: 'drainTimeoutSeconds', message: 'must be an integer from 10 to 7200 (seconds)' });
  expect(problems({ job: 'orders', taskManagers: '-2', drainTaskManager: 'tm-1' })[0]).toEqual({ field: 'drainTaskManager', message: expect.stringContaining('"taskManagers": "-1"') });
  expect(problems({ job: 'orders', taskManagers: 2, colour: 'x' })[0].message).toContain('taskManagers');
});
