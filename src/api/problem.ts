// An HTTP answer that is not a success: status, a stable code, a message, and for bad
// input the path of each field at fault (`body.amount`). Sent as RFC 9457 problem
// details (application/problem+json): `type`, `title`, `status`, `detail`, with
// lendpay's `error` (the code) and `message` beside them.
import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
import { formatYuan } from '../money.ts';

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(status: number, code: string, message: string, errors?: { path: string; message: string }[]) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  error: string;
  message: string;
  errors?: { path: string; message: string }[];
}

export function problemBody(status: number, code: string, message: string, errors?: { path: string; message: string }[]): ProblemBody {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail: message, error: code, message, ...(errors ? { errors } : {}) };
}

export function badField(path: string, message: string): ApiProblem {
  return new ApiProblem(400, 'INVALID_INPUT', `${path} ${message}`, [{ path, message }]);
}

export function notFound(message: string): ApiProblem {
  return new ApiProblem(404, 'NOT_FOUND', message);
}

/** A use case's refusal (a value, not an error) as HTTP: not found 404, a reused request id 409, the rest 422. */
export function refusal(r: { code: string; message: string }): ApiProblem {
  const status = r.code.endsWith('_NOT_FOUND') ? 404 : r.code === 'REQUEST_ID_REUSED' ? 409 : 422;
  return new ApiProblem(status, r.code, r.message);
}

/** An order as a repayment or prepayment answers with it. */
export function orderSummary(o: { id: number; idempotencyKey: string; status: string; amount: number; errorCode: string | null }) {
  return { id: o.id, idempotencyKey: o.idempotencyKey, status: o.status, amount: formatYuan(o.amount), errorCode: o.errorCode };
}
