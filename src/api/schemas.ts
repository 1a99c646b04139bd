// JSON schema pieces shared by the routes (also what /openapi.json shows).
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9:_.-]{1,128}$';

export const YUAN = { type: 'string', pattern: '^-?[0-9]{1,13}\\.[0-9]{2}$', description: 'yuan with two decimals, e.g. "50000.00"' } as const;
/** an amount in a request: what parseYuan accepts (no sign, at most two decimals) */
export const YUAN_IN = { type: 'string', pattern: '^(0|[1-9][0-9]{0,12})(\\.[0-9]{1,2})?$', description: 'yuan, at most two decimals, e.g. "50000.00"' } as const;
// No control characters: Postgres refuses NUL in text (a 500 before this pattern), and
// nothing lendpay names contains a newline or escape.
export const ID = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;

export const WRITE_HEADERS = {
  type: 'object',
  required: ['idempotency-key'],
  properties: {
    'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN, description: 'one per business request: a replay returns the first response; reused with another request: 409' },
  },
} as const;

export const PROBLEM = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;

export const SECURED = [{ bearer: [] }];
