import { ServiceError } from '../errors.ts';

/**
 * Who is calling, as the authorizer found it, and what that caller may see:
 * - an administrator (an admin API key, a person in the admin group, or the local runtime with auth off): everything;
 * - a person (JWT): the projects they created, and API keys scoped to those;
 * - a scoped API key: exactly the projects it was made for, and nothing else (no new projects, no keys).
 */
export interface Principal {
  kind: 'user' | 'api-key' | 'local';
  /** `user:SUB`, `key:ID` or `local`; projects record the subject that created them as their owner. */
  subject: string;
  admin: boolean;
  /** A scoped key's projects; null for people and administrators. */
  projectIds: string[] | null;
}

/** The local runtime with FAULTLINE_AUTH=none: a trusted network, one administrator. */
export const LOCAL_ADMIN: Principal = { kind: 'local', subject: 'local', admin: true, projectIds: null };

/** Whether the caller may see and act on this project. Projects made before owners were recorded have none: admins only. */
export function canAccessProject(p: Principal, project: { id: string; owner?: string | null }): boolean {
  if (p.admin) return true;
  if (p.projectIds) return p.projectIds.includes(project.id);
  return !!project.owner && project.owner === p.subject;
}

export function forbidden(message: string): ServiceError {
  return new ServiceError('FORBIDDEN', message);
}

export function requireAdmin(p: Principal, what: string): void {
  if (!p.admin) throw forbidden(`${what} needs an administrator's credentials`);
}

/** A scoped key can only use its projects: it cannot make projects it would not see, nor other keys. */
export function requireUnscoped(p: Principal, what: string): void {
  if (p.projectIds) throw forbidden(`${what} is not allowed with an API key scoped to projects`);
}

/**
 * The authorizer's context travels as flat strings (API Gateway passes only strings, numbers and booleans from a
 * Lambda authorizer to the integration): these two functions are its only encoder and decoder.
 */
export type AuthorizerContext = { subject: string; kind: string; admin: string; projectIds: string };

export const toAuthorizerContext = (p: Principal): AuthorizerContext => ({
  subject: p.subject,
  kind: p.kind,
  admin: String(p.admin),
  projectIds: p.projectIds ? p.projectIds.join(',') : '',
});

export function fromAuthorizerContext(context: Record<string, unknown> | undefined): Principal | undefined {
  if (!context || typeof context.subject !== 'string' || !context.subject) return undefined;
  const kind =
    context.kind === 'user' || context.kind === 'api-key' || context.kind === 'local' ? context.kind : undefined;
  if (!kind) return undefined;
  const ids = typeof context.projectIds === 'string' && context.projectIds ? context.projectIds.split(',') : null;
  return { kind, subject: context.subject, admin: context.admin === 'true' || context.admin === true, projectIds: ids };
}
