/** Savepoint locations are believed only under the savepoint directory, whatever spelling Flink uses (issue 17, defect 2). */
import { isLocationUnder, isSavepointUri } from '../../functions/core/savepoint-location';

test.each([
  ['file:/tmp/x/savepoint-abc', 'file:///tmp/x'], // real Flink: a single slash for a directory configured with three
  ['file:///tmp/x/savepoint-abc', 'file:/tmp/x'],
  ['file:///tmp/x/savepoint-abc', 'file:///tmp/x/'],
  ['file://localhost/tmp/x/savepoint-abc', 'file:///tmp/x'],
  ['s3://bucket/sp/orders/savepoint-1a2b3c-0123456789ab', 's3://bucket/sp/orders'],
  ['s3a://bucket/sp/orders/savepoint-1', 's3://bucket/sp/orders'],
  ['s3://bucket/sp/orders/savepoint-1', 's3a://bucket/sp/orders'],
  ['s3p://bucket/sp//orders/savepoint-1', 's3://bucket/sp/orders'],
  ['hdfs://namenode:8020/flink/sp/savepoint-1', 'hdfs://namenode:8020/flink/sp'],
  ['hdfs://namenode:8020/flink/sp/savepoint-1', 'hdfs:///flink/sp'], // the default name node
])('%s is under %s', (location, dir) => {
  expect(isLocationUnder(location, dir)).toBe(true);
});

test.each([
  [' ', 's3://bucket/sp'],
  ['NaN', 's3://bucket/sp'],
  ['\u0000', 's3://bucket/sp'],
  ['', 's3://bucket/sp'],
  ['s3://bucket/sp', 's3://bucket/sp'], // the directory itself is no savepoint
  ['s3://bucket/spx/savepoint-1', 's3://bucket/sp'], // a sibling sharing a prefix
  ['s3://other/sp/savepoint-1', 's3://bucket/sp'],
  ['gs://bucket/sp/savepoint-1', 's3://bucket/sp'],
  ['s3://bucket/sp/../other/savepoint-1', 's3://bucket/sp'],
  ['s3://bucket/sp/savepoint 1', 's3://bucket/sp'],
  ['s3://bucket/sp/savepoint-1\n', 's3://bucket/sp'],
  ['/tmp/x/savepoint-1', 'file:///tmp/x'], // no scheme
  ['file:/tmp/x/savepoint-1', 'file:///tmp/y'],
  ['hdfs://nn1:8020/flink/sp/savepoint-1', 'hdfs://nn2:8020/flink/sp'],
])('%j is not under %s', (location, dir) => {
  expect(isLocationUnder(location, dir)).toBe(false);
});

test('directory URIs: scheme, then a bucket or an absolute path', () => {
  for (const ok of ['s3://b/sp', 's3a://b', 'file:///tmp/sp', 'file:/tmp/sp', 'hdfs://nn:8020/sp', 'hdfs:///sp', 'gs://b/sp', 'abfss://c@acct.dfs.core.windows.net/sp']) {
    expect([ok, isSavepointUri(ok)]).toEqual([ok, true]);
  }
  for (const bad of ['', ' ', 'NaN', '/tmp/sp', 'sp', 's3:bucket', 's3://', 'file://host/tmp', 's3://b/sp/../x', 's3://b/ sp', 'http://x/?q=1']) {
    expect([bad, isSavepointUri(bad)]).toEqual([bad, false]);
  }
});
