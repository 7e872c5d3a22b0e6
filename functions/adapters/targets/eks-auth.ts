/**
 * Lambda → EKS API credentials, without kubectl or aws-iam-authenticator binaries:
 * - endpoint and cluster CA from eks:DescribeCluster;
 * - a bearer token in the aws-iam-authenticator format: "k8s-aws-v1." + base64url (no padding) of a presigned
 *   STS GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster name>` (X-Amz-Expires 60).
 *   The API server accepts it for 15 minutes after X-Amz-Date; we renew after 10.
 * The caller's IAM principal must be granted access in the cluster (EKS access entry; see docs/capacity-targets.md).
 */
import { createHash, createHmac } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from './kube-client';
import { CapacityTargetError, type TargetKind } from './types';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** X-Amz-Expires of the presigned URL (the EKS authenticator ignores it and allows 15 minutes). */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long we reuse one token: well inside the 15 minutes the server accepts. */
export const TOKEN_REUSE_MS = 10 * 60_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
export type CredentialsProvider = () => Promise<AwsCredentials>;

/** Regional STS endpoint, the one the EKS authenticator accepts for the region. */
export function stsHostFor(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

function base64Url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** RFC 3986 percent-encoding, as SigV4 canonical query strings need it (encodeURIComponent leaves !'()* alone). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Presigns GET https://<sts host>/?Action=GetCallerIdentity&Version=2011-06-15 with SigV4 in the query string
 * (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), `host` and `x-k8s-aws-id` signed, empty
 * payload. node:crypto only, so the SigV4 signer packages stay out of the bundles.
 */
function presignGetCallerIdentity(host: string, clusterName: string, region: string, creds: AwsCredentials, at: Date): string {
  const amzDate = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20250304T050607Z
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/sts/aws4_request`;
  const params: Record<string, string> = {
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${creds.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(PRESIGN_EXPIRES_SECONDS),
    'X-Amz-SignedHeaders': `host;${CLUSTER_ID_HEADER}`,
    ...(creds.sessionToken ? { 'X-Amz-Security-Token': creds.sessionToken } : {}),
  };
  const query = Object.keys(params)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(params[k])}`)
    .join('&');
  const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
  const canonical = `GET\n/\n${query}\nhost:${host}\n${CLUSTER_ID_HEADER}:${clusterName}\n\n${params['X-Amz-SignedHeaders']}\n${hex('')}`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(canonical)}`;
  const key = [day, region, 'sts', 'aws4_request'].reduce<Buffer | string>((k, part) => createHmac('sha256', k).update(part, 'utf8').digest(), `AWS4${creds.secretAccessKey}`);
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return `https://${host}/?${query}&X-Amz-Signature=${signature}`;
}

/** Builds an EKS bearer token for `clusterName`, signed with `credentials` at `now`. */
export async function createEksToken(args: {
  clusterName: string;
  region: string;
  credentials: AwsCredentials | CredentialsProvider;
  now?: Date;
}): Promise<{ token: string; url: string; signedAt: Date }> {
  const host = stsHostFor(args.region);
  const creds = typeof args.credentials === 'function' ? await args.credentials() : args.credentials;
  const signedAt = args.now ?? new Date();
  const url = presignGetCallerIdentity(host, args.clusterName, args.region, creds, signedAt);
  return { token: TOKEN_PREFIX + base64Url(url), url, signedAt };
}

export interface EksClusterInfo {
  name: string;
  endpoint: string;
  /** Base64 PEM of the cluster CA, as eks:DescribeCluster returns it. */
  caData: string;
}

/** A KubeConfig that talks to `server` with the cluster CA and a bearer token; TLS is always verified. */
export function kubeConfigFor(cluster: EksClusterInfo, token: string): KubeConfig {
  return new KubeConfig({ name: cluster.name, server: cluster.endpoint, caData: cluster.caData, skipTLSVerify: false }, { name: 'flink-elastic', token });
}

export interface EksAccessOptions {
  clusterName: string;
  /** Which target uses the cluster, for error messages. */
  target: { kind: TargetKind; name: string };
  eks?: EKSClient;
  /** Defaults to the EKS client's credential chain and region. */
  credentials?: CredentialsProvider;
  region?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * Gives a ready KubeConfig for the cluster. The cluster endpoint and CA are read once; the token is renewed every
 * `TOKEN_REUSE_MS`.
 */
export class EksKubeConfigProvider {
  private readonly eks: EKSClient;
  private cluster?: EksClusterInfo;
  private cached?: { kc: KubeConfig; at: number };

  constructor(private readonly opts: EksAccessOptions) {
    this.eks = opts.eks ?? new EKSClient({});
  }

  async get(): Promise<KubeConfig> {
    const now = (this.opts.now ?? (() => new Date()))();
    if (this.cached && now.getTime() - this.cached.at < TOKEN_REUSE_MS) return this.cached.kc;
    const cluster = (this.cluster ??= await this.describeCluster());
    const region = this.opts.region ?? (await this.eks.config.region());
    const credentials = this.opts.credentials ?? (() => this.eks.config.credentials());
    const { token } = await createEksToken({ clusterName: cluster.name, region, credentials, now });
    const kc = kubeConfigFor(cluster, token);
    this.cached = { kc, at: now.getTime() };
    return kc;
  }

  /** Forget the cached token (after a 401). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async describeCluster(): Promise<EksClusterInfo> {
    const { kind, name } = this.opts.target;
    const op = `eks:DescribeCluster ${this.opts.clusterName}`;
    let out;
    try {
      out = await this.eks.send(new DescribeClusterCommand({ name: this.opts.clusterName }));
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const detail = `${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
      if (err.name === 'ResourceNotFoundException') throw new CapacityTargetError(kind, name, op, 'NOT_FOUND', `no EKS cluster "${this.opts.clusterName}": ${detail}`, false, { cause: e });
      if (/AccessDenied/.test(err.name ?? '') || err.$metadata?.httpStatusCode === 403) {
        throw new CapacityTargetError(kind, name, op, 'FORBIDDEN', `${detail}; the role needs eks:DescribeCluster on this cluster`, false, { cause: e });
      }
      throw new CapacityTargetError(kind, name, op, 'API', detail, (err.$metadata?.httpStatusCode ?? 0) >= 500 || /Throttl/.test(err.name ?? ''), { cause: e });
    }
    const c = out.cluster;
    if (!c?.endpoint || !c.certificateAuthority?.data) {
      throw new CapacityTargetError(kind, name, op, 'API', `cluster "${this.opts.clusterName}" has no endpoint/CA yet (status ${c?.status ?? 'unknown'})`, c?.status === 'CREATING' || c?.status === 'UPDATING');
    }
    return { name: c.name ?? this.opts.clusterName, endpoint: c.endpoint, caData: c.certificateAuthority.data };
  }
}
