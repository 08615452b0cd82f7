/**
 * RFC 9457 problem documents. Every error the API returns is an ApiProblem with a stable
 * snake_case `code` (docs/errors.md lists them); the filter in problem.filter.ts renders it.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extras: Record<string, unknown> = {},
  ) {
    super(`${code}: ${detail}`);
  }

  toBody(): ProblemBody {
    return {
      type: `https://monedero.example/problems/${this.code.replace(/_/g, '-')}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...this.extras,
    };
  }
}

export const problems = {
  validation: (detail: string, errors?: unknown) => new ApiProblem(400, 'validation_failed', detail, errors ? { errors } : {}),
  invalidAmount: (detail: string) => new ApiProblem(400, 'invalid_amount', detail),
  unauthenticated: (detail = 'Authentication is required') => new ApiProblem(401, 'unauthenticated', detail),
  forbidden: (detail = 'You may not do this') => new ApiProblem(403, 'forbidden', detail),
  notFound: (what: string) => new ApiProblem(404, 'not_found', `${what} not found`),
  conflict: (code: string, detail: string) => new ApiProblem(409, code, detail),
  unprocessable: (code: string, detail: string) => new ApiProblem(422, code, detail),
  unavailable: (detail = 'A backing service is unavailable; retry later') => new ApiProblem(503, 'service_unavailable', detail),
};

/** Thrown to send a remembered (idempotent) response again; ProblemFilter writes it out verbatim. */
export class ReplayedResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super('idempotent replay');
  }
}
