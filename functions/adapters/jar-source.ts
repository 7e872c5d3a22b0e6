/**
 * Where a job's jar is read from when the JobManager lacks it (`submit.jarPath`: a local path or `s3://bucket/key`),
 * so the workflow can upload it with POST /jars/upload. The deployed stack grants s3:GetObject on exactly the
 * configured objects (lib/constructs/job-access.ts); a local path is read from the machine the step runs on
 * (the CLI's `--local` mode; inside a Lambda only files bundled with it exist).
 */
import { readFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../core/jar-location';

export { jarFileName, parseS3Uri } from '../core/jar-location';

export interface JarSource {
  /** The jar's bytes. Throws JarSourceError naming the location and why it cannot be read. */
  read(location: string): Promise<Uint8Array>;
}

export class JarSourceError extends Error {
  override readonly name = 'JarSourceError';
  constructor(
    readonly location: string,
    reason: string,
  ) {
    super(`cannot read the jar ${location}: ${reason}`);
  }
}

/** Reads `s3://` objects through the given S3 client (created on first use when a factory is given) and local files from disk. */
export class LocalOrS3JarSource implements JarSource {
  private s3?: S3Client;

  constructor(private readonly s3Client: S3Client | (() => S3Client)) {}

  async read(location: string): Promise<Uint8Array> {
    const s3 = parseS3Uri(location);
    if (s3) {
      this.s3 ??= typeof this.s3Client === 'function' ? this.s3Client() : this.s3Client;
      try {
        // required here, not at the top: the workflow Lambda loads the S3 client only for the steps that fetch a jar
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
        const r = await this.s3.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key }));
        if (!r.Body) throw new Error('the object has no body');
        return await r.Body.transformToByteArray();
      } catch (e) {
        const err = e as { name?: string; message?: string };
        throw new JarSourceError(location, `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`);
      }
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) {
      throw new JarSourceError(location, 'only local paths, file:// and s3:// locations are supported');
    }
    const path = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      throw new JarSourceError(location, (e as Error).message);
    }
  }
}
