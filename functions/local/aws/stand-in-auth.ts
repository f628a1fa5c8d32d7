import { createHash, randomUUID } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import {
  checkPolicySignature,
  checkSignature,
  type Claim,
  policyLengthRange,
  readClaim,
  type RawRequest,
  type Refusal,
  UNSIGNED_PAYLOAD,
} from './sigv4.ts';
import type { AwsCredentials } from './stand-in-credentials.ts';

/**
 * The stand-ins answer only requests signed with the local runtime's credentials, as the AWS services do: each
 * stand-in's request listener is wrapped by one of these, which checks the signature (sigv4.ts) and answers a refusal
 * in the service's own words, before the stand-in sees anything. s3rver, dynalite and fauxqs check nothing themselves.
 */

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type Log = (line: Record<string, unknown>) => void;

export interface GuardOptions {
  credentials: AwsCredentials;
  log: Log;
}

const rawRequest = (req: IncomingMessage): RawRequest => {
  const url = req.url ?? '/';
  const at = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: at < 0 ? url : url.slice(0, at),
    query: at < 0 ? '' : url.slice(at + 1),
    headers: req.headers,
  };
};

/**
 * A request carrying `head` and then whatever is still to come from `req`, for a listener that reads the body itself
 * after the guard has read (some of) it. A real IncomingMessage, so the listener finds everything it expects.
 */
function replay(req: IncomingMessage, head: Buffer[], rest: boolean): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  Object.assign(copy, {
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
  });
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  for (const chunk of head) copy.push(chunk);
  const end = () => {
    copy.complete = true;
    copy.push(null);
  };
  if (!rest) {
    copy._read = () => {};
    end();
    return copy;
  }
  copy._read = () => void req.resume();
  req.on('data', (chunk: Buffer) => {
    if (!copy.push(chunk)) req.pause();
  });
  req.once('end', end);
  req.once('error', (error) => copy.destroy(error));
  req.resume();
  return copy;
}

/** Calls the stand-in's listener; what it throws is its request's 500, logged, never the end of the process. */
function handOn(listener: RequestListener, req: IncomingMessage, res: ServerResponse, log: Log, what: string): void {
  try {
    listener(req, res);
  } catch (error) {
    log({
      level: 'error',
      msg: `${what} failed on a request`,
      method: req.method,
      error: error instanceof Error ? error.stack : String(error),
    });
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end();
  }
}

/**
 * For a refusal answered from the headers alone: the connection closes once the answer is sent, so the body is never
 * read (Node would otherwise read, and throw away, all of it to use the connection again: an unsigned caller could
 * make the stand-in take in any amount).
 */
function unread(req: IncomingMessage, res: ServerResponse): ServerResponse {
  res.setHeader('connection', 'close');
  res.once('finish', () => req.destroy());
  return res;
}

// ---- S3 --------------------------------------------------------------------------------------------------------

const xmlEscape = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );

/** S3's XML error document, as S3 answers it. */
export function answerS3Error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  detail: Record<string, string> = {},
): void {
  const requestId = randomUUID();
  const extra = Object.entries(detail)
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
    .join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`;
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

const answerS3Refusal = (res: ServerResponse, refusal: Refusal, presigned: boolean): void => {
  switch (refusal.kind) {
    case 'missing':
      return answerS3Error(res, 403, 'AccessDenied', 'Access Denied');
    case 'malformed':
      return answerS3Error(
        res,
        400,
        presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
        refusal.message,
      );
    case 'unsupported':
      return answerS3Error(res, 400, 'InvalidRequest', refusal.message);
    case 'unknown-key':
      return answerS3Error(res, 403, 'InvalidAccessKeyId', refusal.message, { AWSAccessKeyId: refusal.accessKeyId });
    case 'signature':
      return answerS3Error(res, 403, 'SignatureDoesNotMatch', refusal.message);
    case 'skewed':
      return answerS3Error(res, 403, 'RequestTimeTooSkewed', refusal.message);
    case 'expired':
    case 'denied':
      return answerS3Error(res, 403, 'AccessDenied', refusal.message);
  }
};

/** What S3 allows before the file of a form upload (its fields); more is refused rather than held. */
const MAX_FORM_FIELDS_BYTES = 1024 * 1024;

type BusboyInstance = NodeJS.WritableStream & { on(event: string, listener: (...args: any[]) => void): BusboyInstance };
const Busboy = createRequire(createRequire(import.meta.url).resolve('s3rver'))('busboy') as new (o: {
  headers: IncomingMessage['headers'];
}) => BusboyInstance;

/**
 * A browser's presigned POST (a form to the bucket's URL, signed by its policy): the fields are read until the file
 * begins, the policy and its signature checked, and only then is the form, from its first byte, handed to s3rver.
 */
function checkFormUpload(
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  o: GuardOptions,
  pass: (req: IncomingMessage) => void,
): void {
  let parser: BusboyInstance;
  try {
    parser = new Busboy({ headers: req.headers });
  } catch (error) {
    return answerS3Error(
      res,
      400,
      'MalformedPOSTRequest',
      `The body of your POST request is not well-formed multipart/form-data: ${(error as Error).message}`,
    );
  }
  const held: Buffer[] = [];
  let heldBytes = 0;
  let decided = false;
  const fields = new Map<string, string>();
  const refuse = (answer: () => void) => {
    stop();
    answer();
    // The rest of the body is not wanted; reading it lets the connection be used again.
    req.resume();
  };
  const stop = () => {
    decided = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.pause();
  };
  const decide = () => {
    if (decided) return;
    stop();
    // S3 checks the policy against the URL's bucket, whatever a field says.
    fields.set('bucket', bucket);
    checkPolicySignature(fields, o.credentials).then(
      (refusal) => {
        if (refusal) return refuse(() => answerS3Refusal(res, refusal, false));
        const range = policyLengthRange(fields.get('policy') ?? '');
        if (!range) return pass(replay(req, held, true));
        holdWithin(range);
      },
      (error: unknown) => refuse(() => answerS3Error(res, 500, 'InternalError', String(error))),
    );
  };
  // A policy's content-length-range, as S3 applies it: the whole form is held (at most the range's top and the
  // fields) while the file's bytes are counted, and s3rver stores nothing unless the file is within the range.
  let fileBytes = 0;
  let parsed = false;
  let onParsed = () => {};
  const holdWithin = (range: { min: number; max: number }) => {
    const tooLarge = () =>
      refuse(() =>
        answerS3Error(res, 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
          ProposedSize: String(fileBytes),
          MaxSizeAllowed: String(range.max),
        }),
      );
    const onMore = (chunk: Buffer) => {
      held.push(chunk);
      heldBytes += chunk.length;
      parser.write(chunk);
      if (fileBytes > range.max || heldBytes > range.max + 2 * MAX_FORM_FIELDS_BYTES) {
        req.off('data', onMore);
        req.off('end', onLast);
        tooLarge();
      }
    };
    const onLast = () => parser.end();
    onParsed = () => {
      if (fileBytes > range.max) return tooLarge();
      if (fileBytes < range.min)
        return refuse(() =>
          answerS3Error(res, 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
            ProposedSize: String(fileBytes),
            MinSizeAllowed: String(range.min),
          }),
        );
      pass(replay(req, held, false));
    };
    if (parsed) return onParsed();
    req.on('data', onMore);
    req.on('end', onLast);
    req.resume();
  };
  parser.on('field', (name: string, value: string) => {
    if (name.toLowerCase() === 'file') return decide();
    fields.set(name.toLowerCase(), value);
  });
  parser.on('file', (name: string, stream: NodeJS.ReadableStream) => {
    if (name === 'file') stream.on('data', (chunk: Buffer) => (fileBytes += chunk.length));
    stream.resume();
    if (name === 'file') decide();
  });
  parser.on('finish', () => {
    parsed = true;
    if (decided) onParsed();
    else decide();
  });
  parser.on('error', (error: Error) => {
    if (!decided)
      refuse(() =>
        answerS3Error(
          res,
          400,
          'MalformedPOSTRequest',
          `The body of your POST request is not well-formed multipart/form-data: ${error.message}`,
        ),
      );
  });
  const onData = (chunk: Buffer) => {
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes > MAX_FORM_FIELDS_BYTES)
      return refuse(() =>
        answerS3Error(
          res,
          400,
          'MaxPostPreDataLengthExceededError',
          'Your POST request fields preceding the upload file were too large.',
        ),
      );
    parser.write(chunk);
  };
  const onEnd = () => parser.end();
  req.on('data', onData);
  req.on('end', onEnd);
}

/**
 * s3rver's listener behind S3's checks: the Authorization header or a presigned URL, signed with our key (the body's
 * hash is the signed x-amz-content-sha256, not checked against the bytes, as s3rver does); a form upload to the bucket
 * signed by its policy; a CORS preflight, which browsers send without credentials. Anything else is AccessDenied.
 */
export function signedS3Requests(listener: RequestListener, o: GuardOptions): RequestListener {
  return (req, res) => {
    const pass = (request: IncomingMessage) => handOn(listener, request, res, o.log, 'S3 stand-in');
    const raw = rawRequest(req);
    if (req.method === 'OPTIONS') return pass(req);
    const claim = readClaim(raw, o.credentials, 's3');
    if ('kind' in claim) {
      const bucketOnly = raw.path.match(/^\/([^/]+)\/?$/);
      const form = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
      if (claim.kind === 'missing' && req.method === 'POST' && bucketOnly && form)
        return checkFormUpload(req, res, decodeURIComponent(bucketOnly[1]!), o, pass);
      return answerS3Refusal(unread(req, res), claim, raw.query.includes('X-Amz-Algorithm='));
    }
    const payloadHash = claim.presigned ? UNSIGNED_PAYLOAD : req.headers['x-amz-content-sha256'];
    if (typeof payloadHash !== 'string')
      return answerS3Error(
        unread(req, res),
        400,
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
      );
    checkSignature(raw, claim, o.credentials, payloadHash, false).then(
      (refusal) => (refusal ? answerS3Refusal(unread(req, res), refusal, claim.presigned) : pass(req)),
      (error: unknown) => answerS3Error(res, 500, 'InternalError', String(error)),
    );
  };
}

// ---- DynamoDB and SQS (AWS JSON protocol) ----------------------------------------------------------------------

/** The coral error type each refusal is, and the code an SQS client reads from x-amzn-query-error. */
const JSON_ERRORS: Record<Refusal['kind'], { type: string; queryCode: string }> = {
  missing: { type: 'MissingAuthenticationTokenException', queryCode: 'MissingAuthenticationToken' },
  malformed: { type: 'IncompleteSignatureException', queryCode: 'IncompleteSignature' },
  unsupported: { type: 'IncompleteSignatureException', queryCode: 'IncompleteSignature' },
  'unknown-key': { type: 'UnrecognizedClientException', queryCode: 'InvalidClientTokenId' },
  signature: { type: 'InvalidSignatureException', queryCode: 'SignatureDoesNotMatch' },
  skewed: { type: 'InvalidSignatureException', queryCode: 'SignatureDoesNotMatch' },
  expired: { type: 'InvalidSignatureException', queryCode: 'SignatureDoesNotMatch' },
  denied: { type: 'AccessDeniedException', queryCode: 'AccessDenied' },
};

function answerJsonRefusal(res: ServerResponse, refusal: Refusal, service: 'dynamodb' | 'sqs' | 'kinesis'): void {
  const { type, queryCode } = JSON_ERRORS[refusal.kind];
  const message =
    refusal.kind === 'unknown-key' ? 'The security token included in the request is invalid.' : refusal.message;
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    ...(service === 'sqs' ? { 'x-amzn-query-error': `${queryCode};Sender` } : {}),
  });
  res.end(body);
}

/**
 * dynalite's or fauxqs's listener behind the service's checks. The header is read first (a request without our key,
 * or dated outside the window, is refused unread and its connection closed); then the body, up to `maxBodyBytes`, is read and hashed, as these services sign it, and handed
 * on whole to the stand-in.
 */
export function signedJsonRequests(
  listener: RequestListener,
  o: GuardOptions & { service: 'dynamodb' | 'sqs' | 'kinesis'; maxBodyBytes: number },
): RequestListener {
  const what = { dynamodb: 'DynamoDB stand-in', sqs: 'SQS stand-in', kinesis: 'Kinesis stand-in' }[o.service];
  return (req, res) => {
    const raw = rawRequest(req);
    const claim: Claim | Refusal = readClaim(raw, o.credentials, o.service);
    if ('kind' in claim) return answerJsonRefusal(unread(req, res), claim, o.service);
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > o.maxBodyBytes) {
        req.removeAllListeners('data');
        req.removeAllListeners('end');
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    // A client that goes away mid-body is no one's error (dynalite itself threw here, ending the process).
    req.on('error', () => {});
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const payloadHash = createHash('sha256').update(body).digest('hex');
      const sent = req.headers['x-amz-content-sha256'];
      if (typeof sent === 'string' && sent !== payloadHash) {
        return answerJsonRefusal(
          res,
          {
            kind: 'signature',
            message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
          },
          o.service,
        );
      }
      checkSignature(raw, claim, o.credentials, payloadHash).then(
        (refusal) =>
          refusal
            ? answerJsonRefusal(res, refusal, o.service)
            : handOn(listener, replay(req, [body], false), res, o.log, what),
        (error: unknown) => {
          o.log({ level: 'error', msg: `${what}: signature check failed`, error: String(error) });
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
    });
  };
}
