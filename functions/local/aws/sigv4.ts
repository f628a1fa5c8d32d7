import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from './stand-in-credentials.ts';

/**
 * Checks AWS Signature Version 4 on requests to the local stand-ins, the way the services do: the Authorization header
 * or a presigned URL's X-Amz-* query, and S3's POST policy. The canonical request and the signature are computed by
 * @smithy/signature-v4, the signer the AWS SDK itself uses, so what the SDK signs is what is checked here.
 */

/** Why a request is refused; each stand-in answers it in its own service's words. */
export type Refusal =
  | { kind: 'missing'; message: string }
  | { kind: 'malformed'; message: string }
  | { kind: 'unsupported'; message: string }
  | { kind: 'unknown-key'; message: string; accessKeyId: string }
  | { kind: 'signature'; message: string }
  | { kind: 'skewed'; message: string }
  | { kind: 'expired'; message: string }
  /** A POST policy's condition does not hold. */
  | { kind: 'denied'; message: string };

export interface RawRequest {
  method: string;
  /** As sent (still percent-encoded), without the query. */
  path: string;
  /** As sent, without the '?'. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What the Authorization header or the presigned query says, read before any body. */
export interface Claim {
  presigned: boolean;
  longDate: string;
  date: Date;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** The decoded query without X-Amz-Signature (a presigned URL's other X-Amz-* parameters are signed). */
  query: Record<string, string | string[]>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a signed request's time may be from now, as in AWS. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** node:crypto in the shape the signer wants (a constructor; with a secret it is an HMAC). */
export class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac(
            'sha256',
            typeof secret === 'string'
              ? secret
              : new Uint8Array(
                  ArrayBuffer.isView(secret)
                    ? secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength)
                    : secret,
                ),
          );
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(
      typeof data === 'string'
        ? data
        : new Uint8Array(
            ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data,
          ),
    );
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

type SignableRequest = Parameters<SignatureV4['presign']>[0];

/** The signer, with its canonical request and string to sign reached from outside, to recompute a signature. */
class SignatureCheck extends SignatureV4 {
  async expected(
    request: SignableRequest,
    canonicalHeaders: Record<string, string>,
    payloadHash: string,
    claim: Claim,
    scope: string,
  ): Promise<string> {
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const stringToSign = await this.createStringToSign(claim.longDate, scope, canonicalRequest, ALGORITHM);
    return this.sign(stringToSign, {
      signingDate: claim.date,
      signingRegion: claim.region,
      signingService: claim.service,
    });
  }
}

const signer = (credentials: AwsCredentials, claim: { region: string; service: string }, uriEscapePath = true) =>
  new SignatureCheck({
    credentials,
    region: claim.region,
    service: claim.service,
    sha256: Sha256,
    uriEscapePath,
    applyChecksum: false,
  });

const header = (headers: RawRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The query as the signer wants it: names and values decoded ('+' stays '+', as AWS reads it), repeats as arrays. */
export function decodeQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    const name = safeDecode(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : safeDecode(pair.slice(at + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** yyyyMMddTHHmmssZ, as X-Amz-Date has it. */
const parseAmzDate = (text: string | undefined): Date | undefined => {
  const m = text?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
};

const equal = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Whether the request carries a signature at all (header or presigned query). */
export const isSigned = (request: RawRequest): boolean =>
  header(request.headers, 'authorization') !== undefined || /(^|&)X-Amz-Algorithm=/.test(request.query);

/** The credential scope "KEY/yyyyMMdd/region/service/aws4_request", checked against ours and the request's date. */
function checkScope(
  credential: string,
  longDate: string,
  credentials: AwsCredentials,
  service: string,
): Refusal | { region: string } {
  const parts = credential.split('/');
  if (parts.length !== 5)
    return {
      kind: 'malformed',
      message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    };
  const [accessKeyId, shortDate, region, scopeService, terminator] = parts as [string, string, string, string, string];
  if (!equal(accessKeyId, credentials.accessKeyId))
    return {
      kind: 'unknown-key',
      accessKeyId,
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    };
  if (shortDate !== longDate.slice(0, 8))
    return {
      kind: 'signature',
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${longDate.slice(0, 8)}'`,
    };
  if (scopeService !== service)
    return { kind: 'signature', message: `Credential should be scoped to correct service: '${service}'.` };
  if (terminator !== 'aws4_request' || !region)
    return {
      kind: 'signature',
      message: `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    };
  return { region };
}

/**
 * Reads the Authorization header or a presigned query and checks everything but the signature itself: that there is
 * one, the algorithm, our access key, the date (15 minutes either way; a presigned URL until it expires). Needs no
 * body, so a request without our key is refused before its body is read.
 */
export function readClaim(
  request: RawRequest,
  credentials: AwsCredentials,
  service: string,
  now = new Date(),
): Claim | Refusal {
  const authorization = header(request.headers, 'authorization');
  const query = decodeQuery(request.query);
  const presigned = query['X-Amz-Algorithm'] !== undefined;
  if (authorization !== undefined && presigned)
    return {
      kind: 'malformed',
      message: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    };
  if (authorization === undefined && !presigned) {
    return { kind: 'missing', message: 'Request is missing Authentication Token' };
  }
  let algorithm: string;
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let longDate: string | undefined;
  if (authorization !== undefined) {
    const [name = '', ...rest] = authorization.trim().split(/\s+/);
    algorithm = name;
    const fields = new Map(
      rest
        .join('')
        .split(',')
        .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const),
    );
    credential = fields.get('Credential');
    signedHeaders = fields.get('SignedHeaders');
    signature = fields.get('Signature');
    longDate = header(request.headers, 'x-amz-date');
  } else {
    const one = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
    algorithm = one('X-Amz-Algorithm') ?? '';
    credential = one('X-Amz-Credential');
    signedHeaders = one('X-Amz-SignedHeaders');
    signature = one('X-Amz-Signature');
    longDate = one('X-Amz-Date');
  }
  if (algorithm !== ALGORITHM) {
    return {
      kind: 'unsupported',
      message: `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`,
    };
  }
  if (!credential || !signedHeaders || !signature) {
    return {
      kind: 'malformed',
      message: 'The authorization requires the Credential, SignedHeaders and Signature parameters.',
    };
  }
  const date = parseAmzDate(longDate);
  if (!date || !longDate)
    return {
      kind: 'malformed',
      message: "Signed requests need an X-Amz-Date in the ISO-8601 basic format (yyyyMMdd'T'HHmmss'Z').",
    };
  const scope = checkScope(credential, longDate, credentials, service);
  if ('kind' in scope) return scope;
  if (presigned) {
    const expires = Number(query['X-Amz-Expires']);
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
      return {
        kind: 'malformed',
        message: `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_SECONDS}.`,
      };
    }
    if (now.getTime() > date.getTime() + expires * 1000) return { kind: 'expired', message: 'Request has expired' };
    if (date.getTime() - now.getTime() > MAX_SKEW_MS) return { kind: 'expired', message: 'Request is not valid yet' };
  } else if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    return {
      kind: 'skewed',
      message: `Signature expired or not yet valid: ${longDate} is more than 15 minutes from the server's time.`,
    };
  }
  const headerList = signedHeaders.split(';');
  if (!headerList.includes('host'))
    return { kind: 'signature', message: "'Host' must be a 'SignedHeader' in the AWS Authorization." };
  const signedQuery = { ...query };
  delete signedQuery['X-Amz-Signature'];
  return {
    presigned,
    longDate,
    date,
    region: scope.region,
    service,
    signedHeaders: headerList,
    signature,
    query: signedQuery,
  };
}

/**
 * Recomputes the signature of a request whose claim was read, with `payloadHash` as the hash of its body (S3: the
 * x-amz-content-sha256 header, or UNSIGNED-PAYLOAD for a presigned URL). `uriEscapePath` false for S3, whose paths are
 * signed as sent; the other services sign the path encoded once more.
 */
export async function checkSignature(
  request: RawRequest,
  claim: Claim,
  credentials: AwsCredentials,
  payloadHash: string,
  uriEscapePath = true,
): Promise<Refusal | undefined> {
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = header(request.headers, name);
    if (value === undefined) return { kind: 'signature', message: `The header ${name} is signed but not sent.` };
    headers[name] = value;
  }
  const canonicalHeaders = getCanonicalHeaders({ headers } as SignableRequest, undefined, new Set(claim.signedHeaders));
  const path = uriEscapePath ? request.path.split('/').map(safeDecode).join('/') : request.path;
  const signable = {
    method: request.method,
    path,
    query: claim.query,
    headers,
    protocol: 'http:',
    hostname: '',
  } as SignableRequest;
  const scope = `${claim.longDate.slice(0, 8)}/${claim.region}/${claim.service}/aws4_request`;
  const expected = await signer(credentials, claim, uriEscapePath).expected(
    signable,
    canonicalHeaders,
    payloadHash,
    claim,
    scope,
  );
  if (equal(expected, claim.signature)) return undefined;
  return {
    kind: 'signature',
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  };
}

/** S3's POST policy: the signature of the base64 policy document with the signing key of the credential's scope. */
export async function checkPolicySignature(
  fields: Map<string, string>,
  credentials: AwsCredentials,
  now = new Date(),
): Promise<Refusal | undefined> {
  const policy = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  const credential = fields.get('x-amz-credential');
  const longDate = fields.get('x-amz-date');
  if (!policy || !signature || !credential || !longDate) {
    const sent = fields.has('signature') || fields.has('awsaccesskeyid');
    return sent
      ? {
          kind: 'unsupported',
          message: `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`,
        }
      : {
          kind: 'missing',
          message:
            'Bucket POST must contain the fields policy, x-amz-algorithm, x-amz-credential, x-amz-date and x-amz-signature.',
        };
  }
  if (fields.get('x-amz-algorithm') !== ALGORITHM)
    return {
      kind: 'unsupported',
      message: `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM}.`,
    };
  const date = parseAmzDate(longDate);
  if (!date)
    return { kind: 'malformed', message: "x-amz-date must be in the ISO-8601 basic format (yyyyMMdd'T'HHmmss'Z')." };
  const scope = checkScope(credential, longDate, credentials, 's3');
  if ('kind' in scope) return scope;
  const expected = await signer(credentials, { region: scope.region, service: 's3' }).sign(policy, {
    signingDate: date,
    signingRegion: scope.region,
    signingService: 's3',
  });
  if (!equal(expected, signature))
    return {
      kind: 'signature',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  return checkPolicy(policy, fields, now);
}

/**
 * The policy's expiration and conditions, as S3 applies them: every condition holds, and every field but the
 * signature, the policy, the file and x-ignore-* ones is named by a condition. content-length-range is left to the
 * caller, who sees the file's bytes.
 */
function checkPolicy(policy: string, fields: Map<string, string>, now: Date): Refusal | undefined {
  const refuse = (message: string): Refusal => ({ kind: 'denied', message: `Invalid according to Policy: ${message}` });
  let document: { expiration?: unknown; conditions?: unknown };
  try {
    document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
  } catch {
    return { kind: 'malformed', message: 'Invalid Policy: Invalid JSON.' };
  }
  const expiration = typeof document.expiration === 'string' ? new Date(document.expiration) : undefined;
  if (!expiration || Number.isNaN(expiration.getTime()))
    return { kind: 'malformed', message: 'Invalid Policy: Policy missing expiration.' };
  if (now > expiration) return { kind: 'expired', message: 'Invalid according to Policy: Policy expired.' };
  if (!Array.isArray(document.conditions))
    return { kind: 'malformed', message: 'Invalid Policy: Policy missing conditions.' };
  const covered = new Set(['x-amz-signature', 'policy', 'file']);
  for (const condition of document.conditions as unknown[]) {
    let op: string;
    let name: string;
    let value: unknown;
    if (Array.isArray(condition)) {
      [op, name, value] = condition as [string, string, unknown];
      if (typeof op !== 'string') return { kind: 'malformed', message: 'Invalid Policy: Invalid Condition.' };
      op = op.toLowerCase();
      if (op === 'content-length-range') continue;
      if (typeof name !== 'string' || !name.startsWith('$'))
        return { kind: 'malformed', message: 'Invalid Policy: Invalid Condition.' };
      name = name.slice(1).toLowerCase();
    } else if (condition && typeof condition === 'object' && Object.keys(condition).length === 1) {
      const [entry] = Object.entries(condition);
      op = 'eq';
      [name, value] = [entry![0].toLowerCase(), entry![1]];
    } else {
      return { kind: 'malformed', message: 'Invalid Policy: Invalid Condition.' };
    }
    covered.add(name);
    const actual = fields.get(name) ?? '';
    if (op === 'eq' && actual !== value)
      return refuse(`Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(value)}]`);
    if (op === 'starts-with' && (typeof value !== 'string' || !actual.startsWith(value)))
      return refuse(`Policy Condition failed: ["starts-with", "$${name}", ${JSON.stringify(value)}]`);
    if (op !== 'eq' && op !== 'starts-with')
      return { kind: 'malformed', message: `Invalid Policy: Invalid Condition operator '${op}'.` };
  }
  for (const name of fields.keys()) {
    if (!covered.has(name) && !name.startsWith('x-ignore-')) return refuse(`Extra input fields: ${name}`);
  }
  return undefined;
}

/** content-length-range of a POST policy, if it has one (the policy's signature is checked first). */
export function policyLengthRange(policy: string): { min: number; max: number } | undefined {
  try {
    const document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as { conditions?: unknown[] };
    for (const c of document.conditions ?? []) {
      if (Array.isArray(c) && String(c[0]).toLowerCase() === 'content-length-range')
        return { min: Number(c[1]), max: Number(c[2]) };
    }
  } catch {
    // checked before: not reached with a policy that passed checkPolicySignature
  }
  return undefined;
}
