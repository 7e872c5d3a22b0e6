/**
 * An independent check of EKS bearer tokens, written from the aws-iam-authenticator and SigV4 specs (node:crypto only,
 * nothing shared with the code under test): decodes "k8s-aws-v1.<base64url presigned STS URL>" and verifies it the way
 * STS would, with the `x-k8s-aws-id` header set to the cluster the API server expects.
 */
import { createHash, createHmac } from 'node:crypto';

export interface DecodedToken {
  url: URL;
  host: string;
  action: string | null;
  version: string | null;
  signedHeaders: string[];
  expires: number;
  amzDate: string;
  credential: { accessKeyId: string; date: string; region: string; service: string; terminator: string };
  signature: string;
}

export function decodeEksToken(token: string): DecodedToken {
  if (!token.startsWith('k8s-aws-v1.')) throw new Error('token must start with "k8s-aws-v1."');
  const b64 = token.slice('k8s-aws-v1.'.length);
  if (!/^[A-Za-z0-9_-]+$/.test(b64)) throw new Error('token payload must be base64url without padding');
  const url = new URL(Buffer.from(b64, 'base64url').toString('utf8'));
  const q = url.searchParams;
  const [accessKeyId, date, region, service, terminator] = (q.get('X-Amz-Credential') ?? '').split('/');
  return {
    url,
    host: url.host,
    action: q.get('Action'),
    version: q.get('Version'),
    signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
    expires: Number(q.get('X-Amz-Expires')),
    amzDate: q.get('X-Amz-Date') ?? '',
    credential: { accessKeyId, date, region, service, terminator },
    signature: q.get('X-Amz-Signature') ?? '',
  };
}

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** Parses X-Amz-Date (20240102T030405Z) to epoch ms. */
export function amzDateMs(d: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/** Recomputes the SigV4 query signature for the expected cluster; returns a reason when the token is not valid. */
export function verifyEksToken(
  token: string,
  expect: { clusterName: string; region: string; secretAccessKey: string; accessKeyId: string; nowMs: number },
): string | undefined {
  let t: DecodedToken;
  try {
    t = decodeEksToken(token);
  } catch (e) {
    return (e as Error).message;
  }
  if (t.url.protocol !== 'https:') return 'not https';
  if (t.host !== `sts.${expect.region}.amazonaws.com`) return `unexpected STS host ${t.host}`;
  if (t.url.pathname !== '/') return 'path must be /';
  if (t.action !== 'GetCallerIdentity' || t.version !== '2011-06-15') return 'not GetCallerIdentity 2011-06-15';
  if (t.url.searchParams.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'not AWS4-HMAC-SHA256';
  if (!t.signedHeaders.includes('x-k8s-aws-id')) return 'x-k8s-aws-id is not a signed header';
  if (t.credential.accessKeyId !== expect.accessKeyId) return 'unknown access key';
  if (t.credential.service !== 'sts' || t.credential.region !== expect.region || t.credential.terminator !== 'aws4_request') return 'bad credential scope';
  const signedAt = amzDateMs(t.amzDate);
  if (!(expect.nowMs - signedAt <= 15 * 60_000 && signedAt - expect.nowMs <= 5 * 60_000)) return 'token expired (more than 15 minutes after X-Amz-Date)';
  const headers: Record<string, string> = { host: t.host, 'x-k8s-aws-id': expect.clusterName };
  const signed = [...t.signedHeaders].sort();
  if (signed.some((h) => headers[h] === undefined)) return `cannot supply signed header(s) ${signed.join(';')}`;
  const params = [...t.url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, signed.map((h) => `${h}:${headers[h]}\n`).join(''), signed.join(';'), sha256('')].join('\n');
  const scope = `${t.credential.date}/${expect.region}/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', t.amzDate, scope, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${expect.secretAccessKey}`, t.credential.date);
  const kSigning = hmac(hmac(hmac(kDate, expect.region), 'sts'), 'aws4_request');
  const sig = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  return sig === t.signature ? undefined : 'signature does not match (wrong cluster name, credentials or canonical form)';
}
