// One error type for the whole of lendpay. Expected business outcomes (ineligible,
// insufficient funds) are values, not exceptions; this is for what stops a command.
export const ERROR_CODES = [
  'INVALID_AMOUNT',
  'INVALID_DATE',
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'RULES_INVALID',
  'RULE_TESTS_FAILED',
  'IMPORT_INVALID',
  'NOT_FOUND',
  'CONFLICT',
  'DATABASE_UNAVAILABLE',
  'BATCH_FAILED',
  'CALENDAR_INVALID',
  'CHANNEL_UNAVAILABLE',
  'CHANNEL_REJECTED',
  'REQUEST_ID_REUSED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class LendpayError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; details?: readonly string[] } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LendpayError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details ?? [];
  }
}
