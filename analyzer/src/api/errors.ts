/**
 * The API's one error type: an HTTP status, a stable code and a message that says what is wrong
 * (and, for bad input, every problem by parameter). Anything else thrown inside a handler is a
 * server fault.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'unavailable'
  | 'internal';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { error: ErrorCode; message: string; problems?: readonly string[] } {
    return { error: this.code, message: this.message, ...(this.problems.length > 0 ? { problems: this.problems } : {}) };
  }
}

/** 400 with every problem listed; the message joins them. */
export function badRequest(problems: readonly string[]): ApiError {
  return new ApiError(400, 'bad_request', problems.join('; '), problems);
}

export const notFound = (what: string) => new ApiError(404, 'not_found', what);
