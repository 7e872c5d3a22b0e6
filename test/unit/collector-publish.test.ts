import { jobMetrics, publishCollected } from '../../functions/collector/publish';

test('one EMF line per job: our namespace, dimension Job only (no Powertools "service"), every collected metric', () => {
  const prev = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
  try {
    const m = jobMetrics('FlinkElastic/FlinkElastic');
    expect(publishCollected(m, { job: 'orders-enrichment', metrics: { inputRate: 1200.5, pendingRecords: 42, slotsTotal: 8, slotsAvailable: 2, parallelism: 6, taskManagers: 4, running: 1 }, missing: [] })).toBe(7);
    expect(publishCollected(m, { job: 'fraud-scoring', metrics: { taskManagers: 2 }, missing: [] })).toBe(1);
    expect(publishCollected(m, { job: 'nothing', metrics: {}, missing: ['job "x" not found'] })).toBe(0);
  } finally {
    spy.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = prev;
  }
  expect(lines).toHaveLength(2);
  const [a, b] = lines.map((l) => JSON.parse(l));
  expect(a._aws.CloudWatchMetrics).toEqual([
    {
      Namespace: 'FlinkElastic/FlinkElastic',
      Dimensions: [['Job']],
      Metrics: expect.arrayContaining([
        { Name: 'InputRecordsPerSecond', Unit: 'Count/Second' },
        { Name: 'PendingRecords', Unit: 'Count' },
        { Name: 'SlotsTotal', Unit: 'Count' },
        { Name: 'Parallelism', Unit: 'Count' },
      ]),
    },
  ]);
  expect(a).toMatchObject({ Job: 'orders-enrichment', InputRecordsPerSecond: 1200.5, PendingRecords: 42, TaskManagers: 4, JobRunning: 1 });
  expect(a.service).toBeUndefined();
  expect(b).toMatchObject({ Job: 'fraud-scoring', TaskManagers: 2 });
  expect(b.PendingRecords).toBeUndefined();
});
