/** Jar routes (§6): list, upload (multipart), delete, run. */
import { HEX32 } from '../../../functions/adapters/flink/wire';
import { badFormat, HttpError, readBody, RouteContext } from './http';

export function jarRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // §6
  on('GET', '/jars', () => ({
    status: 200,
    body: {
      address: ctx.url(),
      files: m.jars.map((j) => ({ id: j.id, name: j.name, uploaded: j.uploaded, entry: j.entryClasses.map((c) => ({ name: c, description: p.observedWire ? null : 'No description provided' })) })),
    },
  }));
  on('POST', '/jars/upload', ({ contentType, rawBody }) => {
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) throw new HttpError(400, ['Exactly 1 file must be sent, received 0.']);
    const files = parseMultipart(contentType, rawBody).filter((x) => x.filename !== undefined);
    if (files.length !== 1) throw new HttpError(400, [`Exactly 1 file must be sent, received ${files.length}.`]);
    const f = files[0];
    if (!f.filename!.endsWith('.jar')) throw new HttpError(400, ['Only Jar files are allowed.']);
    const jar = m.uploadJar(f.filename!.split(/[\\/]/).pop()!, f.data);
    return { status: 200, body: { filename: `/tmp/flink-web-upload/${jar.id}`, status: 'success' } };
  });
  on('DELETE', '/jars/{id}', ({ params }) => {
    const i = m.jars.findIndex((j) => j.id === params[0]);
    if (i === -1) throw new HttpError(400, [`File ${params[0]} does not exist in /tmp/flink-web-upload.`]);
    m.jars.splice(i, 1);
    return { status: 200, body: {} };
  });
  on('POST', '/jars/{id}/run', ({ params, body, query }) => {
    const b = readBody(body, 'JarRunRequestBody', p.requestFields.jarRun, {
      entryClass: 'string',
      programArgs: 'string',
      programArgsList: 'string[]',
      parallelism: 'integer',
      jobId: 'string',
      savepointPath: 'string',
      allowNonRestoredState: 'boolean',
      restoreMode: 'string',
      flinkConfiguration: 'record',
    });
    if (b.restoreMode != null && !['CLAIM', 'NO_CLAIM', 'LEGACY'].includes(b.restoreMode as string)) throw badFormat('JarRunRequestBody');
    if (b.jobId != null && !HEX32.test(b.jobId as string)) throw badFormat('JarRunRequestBody');
    // The body wins; a query value is used only when the body field is null (§6.3).
    const q = (k: string) => query.get(k) ?? undefined;
    const qInt = (k: string) => {
      const v = q(k);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${v}' for parameter ${k}.`]);
      return n;
    };
    const args =
      (b.programArgsList as string[] | undefined) ??
      (b.programArgs !== undefined && b.programArgs !== null ? tokenize(b.programArgs as string) : undefined) ??
      (q('programArg') !== undefined ? q('programArg')!.split(',') : q('program-args') !== undefined ? tokenize(q('program-args')!) : []);
    if (p.observedWire && !m.jars.some((j) => j.id === params[0])) {
      throw new HttpError(500, [
        'Internal server error.',
        `<Exception on server side:\njava.util.concurrent.CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file /tmp/flink-web-upload/${params[0]} does not exist\n\tat org.apache.flink.runtime.webmonitor.handlers.utils.JarHandlerUtils$JarHandlerContext.toPackagedProgram(JarHandlerUtils.java)\n\nEnd of exception on server side>`,
      ]);
    }
    const job = m.runJar(params[0], {
      entryClass: (b.entryClass as string) ?? q('entry-class'),
      programArgs: args,
      parallelism: (b.parallelism as number) ?? qInt('parallelism'),
      jobId: (b.jobId as string) ?? undefined,
      savepointPath: (b.savepointPath as string) ?? q('savepointPath'),
      allowNonRestoredState: (b.allowNonRestoredState as boolean) ?? (q('allowNonRestoredState') === 'true' ? true : undefined),
      restoreMode: (b.restoreMode as string) ?? undefined,
      flinkConfiguration: (b.flinkConfiguration as Record<string, string>) ?? undefined,
    });
    return { status: 200, body: { jobid: job.id, ...(p.flink2Wire ? { applicationId: job.id } : {}) } };
  });
}

/** Tokenises the deprecated single-string programArgs (quotes respected), as JarHandlerUtils does. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function parseMultipart(contentType: string, body: Buffer): { name: string; filename?: string; data: Buffer }[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return [];
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: { name: string; filename?: string; data: Buffer }[] = [];
  let pos = body.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (body.slice(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const headers = body.slice(start, headerEnd).toString('utf8');
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next === -1) break;
    const data = body.slice(headerEnd + 4, next - 2); // strip the CRLF before the boundary
    const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    parts.push({ name, filename, data });
    pos = next;
  }
  return parts;
}
