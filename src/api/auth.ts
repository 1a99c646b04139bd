// Who is calling, and may they: bearer tokens mapped to a principal {name, role}, and
// the role each route declares in its config. The contract (README, "Roles and
// tokens"): `read` sees data, `operator` may also act on escalations, holds and
// reprocessing, `write` is the loan business system. Tokens travel only in the
// Authorization header, never in a URL.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Role } from '../config.ts';

export type { Role } from '../config.ts';

/** Who a request acts as: audit rows record `name`. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
}

/** What a route asks for: one role, or several that may each call it. */
export type RouteRole = Role | readonly Role[];

/** The roles a token's role stands in for: an operator may do everything a reader may. */
const GRANTS: Readonly<Record<Role, readonly Role[]>> = {
  read: ['read'],
  operator: ['read', 'operator'],
  write: ['write'],
};

export function mayCall(principal: Principal, route: RouteRole): boolean {
  const wanted: readonly Role[] = typeof route === 'string' ? [route] : route;
  return wanted.some((r) => GRANTS[principal.role].includes(r));
}

export function describeRole(route: RouteRole): string {
  return typeof route === 'string' ? route : route.join(' or ');
}

export interface Authenticator {
  /** the principal of an `Authorization: Bearer <token>` header, or null */
  (header: string | undefined): Principal | null;
  readonly configured: number;
}

/**
 * Every configured token is hashed once; a presented token is hashed and compared with
 * each of them through timingSafeEqual, without stopping at the first match, so the
 * time taken says nothing about which token (or how much of one) was right.
 */
export function makeAuthenticator(tokens: readonly ApiToken[]): Authenticator {
  const known = tokens.map((t) => ({ principal: Object.freeze({ name: t.name, role: t.role }), hash: sha256(t.token) }));
  const authenticate = (header: string | undefined): Principal | null => {
    const presented = bearer(header);
    if (presented === null || known.length === 0) return null;
    const h = sha256(presented);
    let found: Principal | null = null;
    for (const k of known) if (timingSafeEqual(h, k.hash) && found === null) found = k.principal;
    return found;
  };
  return Object.assign(authenticate, { configured: known.length });
}

/** The token of a well-formed `Bearer` header (scheme case-insensitive), else null. */
export function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
