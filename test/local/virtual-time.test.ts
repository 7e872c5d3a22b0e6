import { VirtualClock, virtualizeWaits } from '../../local/virtual-time';

test('activities wake in time order and see the clock at the time they asked for', async () => {
  const clock = new VirtualClock();
  const seen: string[] = [];
  const a = clock.track(async () => {
    await clock.sleep(30_000);
    seen.push(`a@${clock.now()}`);
    await clock.sleep(30_000);
    seen.push(`a@${clock.now()}`);
  });
  const b = clock.track(async () => {
    await new Promise((r) => setTimeout(r, 5)); // real async work (an HTTP call) before sleeping
    await clock.sleep(45_000);
    seen.push(`b@${clock.now()}`);
  });
  await clock.advanceTo(50_000);
  expect(seen).toEqual(['a@30000', 'b@45000']);
  expect(clock.now()).toBe(50_000);
  await clock.advanceTo(100_000);
  await Promise.all([a, b]);
  expect(seen).toEqual(['a@30000', 'b@45000', 'a@60000']);
  expect(clock.activeCount).toBe(0);
  await expect(clock.advanceTo(10)).rejects.toThrow(/cannot go back/);
});

test('Wait states become virtual-sleep tasks; the rest of the definition is unchanged', () => {
  const asl = {
    StartAt: 'Poll',
    States: {
      Poll: { Type: 'Task', Resource: 'arn:x', Next: 'Done?' },
      'Done?': { Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'End' }], Default: 'Wait' },
      Wait: { Type: 'Wait', SecondsPath: '$.interval', Next: 'Poll' },
      Fixed: { Type: 'Wait', Seconds: 10, End: true },
      End: { Type: 'Succeed' },
    },
  };
  const { asl: out, waits } = virtualizeWaits(asl, 'arn:sleep');
  expect(waits).toEqual(['Wait', 'Fixed']);
  expect(out.States.Wait).toEqual({ Type: 'Task', Comment: 'virtual wait (was: Wait)', Resource: 'arn:sleep', Parameters: { 'seconds.$': '$.interval' }, ResultPath: null, Next: 'Poll' });
  expect(out.States.Fixed).toMatchObject({ Type: 'Task', Parameters: { seconds: 10 }, End: true });
  expect(out.States.Poll).toBe(asl.States.Poll);
  expect(asl.States.Wait.Type).toBe('Wait'); // input not modified
});
