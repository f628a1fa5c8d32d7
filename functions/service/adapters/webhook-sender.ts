import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may not go when private targets are denied (in AWS): loopback, private and link-local networks
 * (the instance metadata address among them), carrier-grade NAT, unspecified and multicast addresses. Otherwise a
 * project's webhook URL would let any API caller make the service's network send requests inside its VPC.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export class PrivateTargetError extends Error {}

/** Resolves like dns.lookup, but fails for private addresses: checked at connect time, so DNS rebinding cannot slip past. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 4);
    const list = addresses as LookupAddress[];
    const blocked = list.find((a) => isPrivateAddress(a.address));
    if (blocked || list.length === 0)
      return callback(
        new PrivateTargetError(`${hostname} resolves to a private address (${blocked?.address ?? 'none'})`),
        '',
        4,
      );
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

/** A URL's host without the brackets of an IPv6 literal. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** Whether a URL's host is, or resolves to, a private address. */
export async function resolvesToPrivate(url: string): Promise<boolean> {
  const host = hostOf(new URL(url));
  if (isIP(host)) return isPrivateAddress(host);
  return new Promise((resolve) =>
    dnsLookup(host, { all: true }, (error, addresses) =>
      resolve(!error && (addresses as LookupAddress[]).some((a) => isPrivateAddress(a.address))),
    ),
  );
}

/** The URL as it may be logged: no user info, no query (either may hold a token). */
export const loggableUrl = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
};

/**
 * The URL as a project's readers see it: user info and query values masked (either may hold a token), the rest kept
 * so that they can tell which receiver it is. A user name without a password is masked too (it is then the token).
 */
export const maskedUrl = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    else if (u.username) u.username = '****';
    for (const key of new Set(u.searchParams.keys())) u.searchParams.set(key, '****');
    if (u.hash) u.hash = '****';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
};

/** One POST of a JSON body; the status, or an error. Redirects are not followed (they could lead anywhere). */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  o: { allowPrivate: boolean; timeoutMs: number; signal?: AbortSignal },
): Promise<number> {
  const target = new URL(url);
  // An IP literal skips the lookup: checked here, before any connection.
  const host = hostOf(target);
  if (!o.allowPrivate && isIP(host) && isPrivateAddress(host))
    return Promise.reject(new PrivateTargetError(`${host} is a private address`));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: o.timeoutMs,
        signal: o.signal,
        ...(o.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
