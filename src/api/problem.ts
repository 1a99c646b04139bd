// An HTTP answer that is not a success: status, a stable code, a message, and for bad
// input the path of each field at fault (`body.amount`).
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
