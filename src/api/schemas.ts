// JSON schema pieces shared by the routes (also what /openapi.json shows). Every
// route documents every answer it can give: its success body and each problem.
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9:_.-]{1,128}$';

export const YUAN = { type: 'string', pattern: '^-?[0-9]{1,13}\\.[0-9]{2}$', description: 'yuan with two decimals, e.g. "50000.00"' } as const;
/** an amount in a request: what parseYuan accepts (no sign, at most two decimals) */
export const YUAN_IN = { type: 'string', pattern: '^(0|[1-9][0-9]{0,12})(\\.[0-9]{1,2})?$', description: 'yuan, at most two decimals, e.g. "50000.00"' } as const;
// No control characters: Postgres refuses NUL in text (a 500 before this pattern), and
// nothing lendpay names contains a newline or escape.
export const ID = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;

export const TIME = { type: 'string', format: 'date-time' } as const;
export const DATE = { type: 'string', format: 'date' } as const;
export const nullable = <T extends object>(s: T) => ({ ...s, nullable: true }) as const;

export const WRITE_HEADERS = {
  type: 'object',
  required: ['idempotency-key'],
  properties: {
    'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN, description: 'one per business request: a replay returns the first response; reused with another request: 409' },
  },
} as const;

/** RFC 9457 problem details, with lendpay's stable code (`error`) and message beside them. */
export const PROBLEM = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'error', 'message'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', description: 'always about:blank: `error` is the machine-readable code' },
    title: { type: 'string', description: 'the HTTP status text' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    error: { type: 'string', description: 'a stable code, e.g. INVALID_INPUT, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, RATE_LIMITED' },
    message: { type: 'string', description: 'the same as detail' },
    errors: {
      type: 'array',
      description: 'bad input only: each field at fault',
      items: { type: 'object', required: ['path', 'message'], additionalProperties: false, properties: { path: { type: 'string', description: 'e.g. body.amount, params.id, headers.idempotency-key' }, message: { type: 'string' } } },
    },
  },
} as const;

const PROBLEMS = {
  400: 'Bad input: `errors` names each field at fault (body.amount, params.id, headers.idempotency-key)',
  401: 'No bearer token, or not a known one (send `Authorization: Bearer <token>`)',
  403: "The token is known but its role may not call this operation",
  404: 'No such resource',
  409: 'Conflict: the Idempotency-Key was used for another request, or is still being processed, or the state does not allow it',
  413: 'The request body is larger than LENDPAY_API_BODY_LIMIT_BYTES',
  415: 'The request body is not application/json',
  422: 'A business refusal (not eligible, over the limit, nothing owed, …): `error` says which',
  429: 'Too many requests from this token (or, without a valid token, this address) in a minute; see Retry-After',
  500: 'Internal error (logged; the message says nothing more)',
  503: 'A part of the service this operation needs is not running (database, rules)',
} as const;
export type ProblemStatus = keyof typeof PROBLEMS;

const problem = (status: ProblemStatus) => ({
  description: PROBLEMS[status],
  content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM } },
  ...(status === 401 ? { headers: { 'WWW-Authenticate': { type: 'string', description: 'Bearer realm="lendpay"' } } } : {}),
  ...(status === 429 ? { headers: { 'Retry-After': { type: 'integer', description: 'seconds until the window resets' } } } : {}),
});

/** What a public operation can answer besides its own results (it is rate limited per address). */
export const PUBLIC_PROBLEMS: readonly ProblemStatus[] = [429, 500];
/** What every operation that takes a token can answer besides its own results. */
export const SECURED_PROBLEMS: readonly ProblemStatus[] = [401, 403, 429, 500];
/** And every operation that reads a JSON body. */
export const BODY_PROBLEMS: readonly ProblemStatus[] = [400, 413, 415];

/**
 * A route's `response`: its successes (status → description and JSON schema) and the
 * problems it can answer, each documented with the problem schema.
 */
export function responses(ok: Record<number, { description: string; schema: object; headers?: object }>, problems: readonly ProblemStatus[]) {
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(ok)) {
    out[status] = { description: r.description, content: { 'application/json': { schema: r.schema } }, ...(r.headers ? { headers: r.headers } : {}) };
  }
  for (const s of [...new Set(problems)].sort()) out[s] = problem(s);
  return out;
}

export const SECURED = [{ bearer: [] }];
export const PUBLIC: never[] = [];
