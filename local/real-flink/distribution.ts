/**
 * A real Apache Flink for the real-Flink tier and `flink-elastic run --local --real-flink VERSION`.
 *
 * - `$FLINK_HOME` when set (an unpacked Flink distribution: `lib/flink-dist-*.jar`), used as it is;
 * - else a pinned distribution from PyPI's `apache-flink-libraries` (it carries the distribution's `lib/*.jar` and
 *   `bin/bash-java-utils.jar`), downloaded with `pip download --no-deps`, checked against the sha256 in
 *   `flink-distributions.lock.json` and unpacked into `.cache/flink/<version>/` (git-ignored). Nothing is built or run
 *   from the package; only its jars are used.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface FlinkDistribution {
  version: string;
  /** Folder holding `lib/` and `bin/bash-java-utils.jar`. */
  home: string;
  libDir: string;
  bashJavaUtilsJar: string;
  /** Every jar of `lib/`, the JobManager's and TaskManagers' classpath. */
  classpath: string[];
  source: 'FLINK_HOME' | 'cache';
}

interface LockEntry {
  package: string;
  version: string;
  file: string;
  sha256: string;
  /** Folder inside the archive that holds lib/ and bin/. */
  root: string;
}

interface LockFile {
  default: string;
  /** The versions the real-Flink tier runs by default. */
  tier: string[];
  distributions: Record<string, LockEntry>;
}

const REPO = resolve(__dirname, '..', '..');
export const LOCK_PATH = join(__dirname, 'flink-distributions.lock.json');
export const DEFAULT_CACHE = join(REPO, '.cache', 'flink');

export function lockFile(): LockFile {
  return JSON.parse(readFileSync(LOCK_PATH, 'utf8')) as LockFile;
}

/** The versions the real-Flink tier runs when FLINK_TIER_VERSIONS is unset. */
export function tierVersions(): string[] {
  return [...lockFile().tier];
}

/** The pinned versions, newest last. */
export function pinnedVersions(): string[] {
  return Object.keys(lockFile().distributions).sort(compareVersions);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Picks a pinned version from a prefix (`2` → newest 2.x, `1.20` → 1.20.5); exact versions pass through. */
export function resolveVersion(requested?: string): string {
  const lock = lockFile();
  if (!requested) return lock.default;
  if (lock.distributions[requested]) return requested;
  const match = pinnedVersions().filter((v) => v === requested || v.startsWith(`${requested}.`));
  if (match.length === 0) {
    throw new Error(`Flink ${requested} is not pinned: pinned versions are ${pinnedVersions().join(', ')} (local/real-flink/flink-distributions.lock.json), or set FLINK_HOME`);
  }
  return match[match.length - 1];
}

function fromHome(home: string, source: FlinkDistribution['source']): FlinkDistribution {
  const libDir = join(home, 'lib');
  if (!existsSync(libDir)) throw new Error(`${home} has no lib/ folder: not a Flink distribution`);
  const jars = readdirSync(libDir).filter((f) => f.endsWith('.jar')).sort();
  const dist = jars.find((f) => /^flink-dist[-_].*\.jar$/.test(f));
  if (!dist) throw new Error(`${libDir} has no flink-dist jar: not a Flink distribution`);
  const version = /flink-dist(?:_[0-9.]+)?-(\d+\.\d+(?:\.\d+)?)/.exec(dist)?.[1] ?? 'unknown';
  const candidates = [join(home, 'bin', 'bash-java-utils.jar'), join(home, 'lib', 'bash-java-utils.jar')];
  const bashJavaUtilsJar = candidates.find((p) => existsSync(p));
  if (!bashJavaUtilsJar) throw new Error(`${home} has no bin/bash-java-utils.jar (needed to size the TaskManagers' memory)`);
  return { version, home, libDir, bashJavaUtilsJar, classpath: jars.map((j) => join(libDir, j)), source };
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((ok, fail) => createReadStream(file).on('data', (c) => h.update(c)).on('end', () => ok()).on('error', fail));
  return h.digest('hex');
}

const EXTRACT_PY = `
import sys, tarfile, zipfile, os, shutil
archive, root, dest = sys.argv[1], sys.argv[2].rstrip('/') + '/', sys.argv[3]
wanted = lambda n: n.startswith(root + 'lib/') and n.endswith('.jar') or n == root + 'bin/bash-java-utils.jar'
def put(name, data):
    out = os.path.join(dest, name[len(root):])
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'wb') as f: shutil.copyfileobj(data, f)
if archive.endswith('.whl') or archive.endswith('.zip'):
    with zipfile.ZipFile(archive) as z:
        for n in z.namelist():
            if wanted(n):
                with z.open(n) as d: put(n, d)
else:
    with tarfile.open(archive) as t:
        for m in t:
            if m.isfile() and wanted(m.name): put(m.name, t.extractfile(m))
`;

export interface EnsureOptions {
  cacheDir?: string;
  /** Progress lines (download, check, unpack). */
  log?: (line: string) => void;
  /** Ignore $FLINK_HOME (the tier pins its versions). */
  ignoreFlinkHome?: boolean;
}

/**
 * A Flink distribution of `requested` (a pinned version or prefix; default: the lock's default), installing it into
 * the cache on first use. `$FLINK_HOME` wins when set, unless its version differs from an explicitly requested one.
 */
export async function ensureFlink(requested?: string, opts: EnsureOptions = {}): Promise<FlinkDistribution> {
  const log = opts.log ?? (() => undefined);
  const home = process.env.FLINK_HOME;
  if (home && !opts.ignoreFlinkHome) {
    const d = fromHome(home, 'FLINK_HOME');
    if (!requested || d.version === requested || d.version.startsWith(`${requested}.`)) return d;
    log(`FLINK_HOME is Flink ${d.version}, not ${requested}: using the pinned distribution`);
  }
  const version = resolveVersion(requested);
  const entry = lockFile().distributions[version];
  const cache = opts.cacheDir ?? DEFAULT_CACHE;
  const dir = join(cache, version);
  const marker = join(dir, '.installed');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === entry.sha256) return fromHome(dir, 'cache');

  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, `.download-${version}-`));
  try {
    log(`downloading ${entry.package}==${entry.version} from PyPI (Flink ${version}'s jars, ~300 MB)`);
    execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', '-d', tmp, `${entry.package}==${entry.version}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PIP_FIND_LINKS: '' },
      timeout: 15 * 60_000,
    });
    const archive = join(tmp, entry.file);
    if (!existsSync(archive)) throw new Error(`pip brought ${readdirSync(tmp).join(', ') || 'nothing'}, not ${entry.file}`);
    const got = await sha256(archive);
    if (got !== entry.sha256) throw new Error(`${entry.file}: sha256 ${got} does not match the lock file's ${entry.sha256}; refusing to install`);
    log(`sha256 ok; unpacking lib/ and bin/bash-java-utils.jar into ${dir}`);
    const staging = join(tmp, 'dist');
    execFileSync('python3', ['-c', EXTRACT_PY, archive, entry.root, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(join(staging, '.installed'), `${entry.sha256}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    const detail = err.stderr?.toString().trim().split('\n').slice(-3).join(' ') || err.message;
    throw new Error(`could not install Flink ${version}: ${detail}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return fromHome(dir, 'cache');
}
