import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { Principal } from '../service/auth/principal.ts';

/**
 * Compatibility route groups an operator may open to callers that send no key (README, "Clients that send no key"):
 * off unless named, and then only from the listed source networks, only on the one project the compatibility routes
 * act on, and under a rate limit of their own. The one owner of these rules, for the local gateway and for the Lambda
 * authorizer in AWS (API Gateway's HTTP APIs take neither a resource policy nor a WAF web ACL, so the source check
 * is made where the caller is signed in, from the address API Gateway saw).
 */

/** The older contracts, one group each; a route names its group (RouteDefinition.compatGroup). */
export const COMPAT_GROUPS = ['flarenet', 'flask', 'training-backend', 'lookout'] as const;
export type CompatGroup = (typeof COMPAT_GROUPS)[number];

const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A CIDR (`10.0.0.0/8`, `fd00::/8`) or one address. */
const cidr = z.string().refine((text) => {
  const [address, bits, extra] = text.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'a CIDR such as 10.0.0.0/8 or 192.168.1.20/32');

/** The settings, as environment variables (npm start; the authorizer's environment in AWS). */
export const openAccessSettingsSchema = z.object({
  /** Comma-separated groups (COMPAT_GROUPS) open to callers without a key; empty = none (the default). */
  FAULTLINE_OPEN_ROUTES: z
    .string()
    .default('')
    .transform(list)
    .pipe(z.array(z.enum(COMPAT_GROUPS))),
  /** Comma-separated source networks allowed to call them (required when a group is open). */
  FAULTLINE_OPEN_NETWORKS: z.string().default('').transform(list).pipe(z.array(cidr)),
  /** Requests a second per source address on the open routes without a key, and the burst above it. */
  FAULTLINE_OPEN_RATE_LIMIT: z.coerce.number().positive().default(5),
  FAULTLINE_OPEN_RATE_BURST: z.coerce.number().int().min(1).default(10),
});

export interface OpenAccess {
  groups: ReadonlySet<CompatGroup>;
  networks: string[];
  /** The one project callers without a key act on. */
  projectId: string;
  rate: { rate: number; burst: number };
}

/** The open access the settings describe, or undefined when no group is open; a half-given setting is an error. */
export function openAccessFrom(
  env: Record<string, string | undefined>,
  projectId: string | undefined,
): OpenAccess | undefined {
  const parsed = openAccessSettingsSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid settings:\n${z.prettifyError(parsed.error)}`);
  const s = parsed.data;
  if (s.FAULTLINE_OPEN_ROUTES.length === 0) return undefined;
  if (s.FAULTLINE_OPEN_NETWORKS.length === 0)
    throw new Error('FAULTLINE_OPEN_ROUTES needs FAULTLINE_OPEN_NETWORKS: the source networks allowed without a key');
  if (!projectId)
    throw new Error(
      'FAULTLINE_OPEN_ROUTES needs FAULTLINE_DEFAULT_PROJECT: the one project callers without a key may use',
    );
  return {
    groups: new Set(s.FAULTLINE_OPEN_ROUTES),
    networks: s.FAULTLINE_OPEN_NETWORKS,
    projectId,
    rate: { rate: s.FAULTLINE_OPEN_RATE_LIMIT, burst: s.FAULTLINE_OPEN_RATE_BURST },
  };
}

/** Whether an address lies in one of the networks (an IPv4 address mapped into IPv6 counts as IPv4). */
export function inNetworks(address: string, networks: string[]): boolean {
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const family = isIP(ip);
  if (!family) return false;
  const blocks = new BlockList();
  for (const n of networks) {
    const [a, bits] = n.split('/') as [string, string | undefined];
    const type = isIP(a) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) blocks.addAddress(a, type);
    else blocks.addSubnet(a, Number(bits), type);
  }
  return blocks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The caller without a key, when its route's group is open and its address is listed: a key-like caller scoped to
 * the one project, that may neither create projects nor keys (principal.ts) nor act as an administrator.
 */
export function openPrincipal(
  access: OpenAccess | undefined,
  group: CompatGroup | undefined,
  sourceIp: string,
): Principal | undefined {
  if (!access || !group || !access.groups.has(group)) return undefined;
  if (!inNetworks(sourceIp, access.networks)) return undefined;
  return { kind: 'api-key', subject: `open:${group}`, admin: false, projectIds: [access.projectId] };
}

/**
 * Whether a request carries a Faultline credential (an API key or a bearer token), which is then always checked. An
 * AWS SigV4 Authorization header (an AWS SDK client of Lookout for Vision signs every request) is not one.
 */
export const sendsCredential = (headers: Record<string, string | undefined>): boolean =>
  headers['x-api-key'] !== undefined || /^Bearer\s/i.test(headers.authorization ?? '');
