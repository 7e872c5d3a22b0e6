/**
 * Savepoint locations and directories as URIs. A completed savepoint's location is believed only when it is a URI
 * under the directory the savepoint was taken into: anything else (" ", "NaN", a control character, another bucket)
 * must not lead to the job being cancelled, since nothing could be restored from it.
 *
 * Flink writes locations through Hadoop-style paths, so the same directory has several spellings: a directory
 * configured as `file:///tmp/x` comes back as `file:/tmp/x/savepoint-…`, `s3a://b/p` and `s3://b/p` name the same
 * bucket, and `hdfs:///p` (the default name node) matches `hdfs://nn:8020/p`. Both sides are normalized first.
 */

/** A URI split into the parts that are compared. */
interface ParsedUri {
  /** Lower-case scheme, with the S3 variants (s3a, s3n, s3p) folded into "s3". */
  scheme: string;
  /** Authority (bucket, name node); "" when absent (file:/x, hdfs:///x). */
  authority: string;
  /** Path segments, without empty ones. */
  segments: string[];
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\s\u0000-\u001f\u007f]/;
const S3_VARIANTS = new Set(['s3', 's3a', 's3n', 's3p']);

/** Parses a savepoint URI; undefined when it is not one (no scheme, whitespace or control characters, "..", no path). */
export function parseSavepointUri(uri: unknown): ParsedUri | undefined {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2048 || UNSAFE.test(uri)) return undefined;
  const m = SCHEME.exec(uri);
  if (!m) return undefined;
  const lower = m[1].toLowerCase();
  const scheme = S3_VARIANTS.has(lower) ? 's3' : lower;
  let rest = m[2];
  let authority = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    authority = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
  } else if (!rest.startsWith('/')) {
    return undefined; // "s3:bucket" or "NaN:" is not a location
  }
  if (scheme === 'file' && authority === 'localhost') authority = '';
  if (/[?#]/.test(authority) || /[?#]/.test(rest)) return undefined;
  const segments = rest.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '.' || s === '..')) return undefined;
  // Object stores name the bucket in the authority; a directory there is at least the bucket.
  if (scheme !== 'file' && authority === '' && segments.length === 0) return undefined;
  if (scheme === 'file' && authority !== '') return undefined;
  return { scheme, authority, segments };
}

/** True when `uri` is a URI flink-elastic accepts as a savepoint directory (`s3://bucket/path`, `file:///path`, ...). */
export function isSavepointUri(uri: unknown): boolean {
  return parseSavepointUri(uri) !== undefined;
}

/**
 * True when `location` is a savepoint strictly inside `directory` (both normalized). An empty authority on the
 * directory side (hdfs:///p: the default name node) matches any authority on the location side.
 */
export function isLocationUnder(location: unknown, directory: unknown): boolean {
  const loc = parseSavepointUri(location);
  const dir = parseSavepointUri(directory);
  if (!loc || !dir) return false;
  if (loc.scheme !== dir.scheme) return false;
  if (dir.authority !== '' && loc.authority !== dir.authority) return false;
  if (loc.segments.length <= dir.segments.length) return false;
  return dir.segments.every((s, i) => loc.segments[i] === s);
}

/** Flink's keys for the cluster-wide default savepoint directory (1.x, and 1.20 / 2.x). */
export const DEFAULT_SAVEPOINT_DIR_KEYS = ['state.savepoints.dir', 'execution.checkpointing.savepoint-dir'] as const;
