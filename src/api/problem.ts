// An HTTP answer that is not a success: status, a stable code, a message, and for bad
// input the path of each field at fault (`body.amount`). Sent as RFC 9457 problem
// details (application/problem+json): `type`, `title`, `status`, `detail`, with
// lendpay's `error` (the code) and `message` beside them.
import { STATUS_CODES } from 'node:http';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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
