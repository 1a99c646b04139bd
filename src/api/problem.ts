// An HTTP answer that is not a success: status, a stable code, a message, and for bad
// input the path of each field at fault (`body.amount`).
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
