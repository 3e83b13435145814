// Errors the admin API answers with: a status, a stable code, and the field at fault when there is one.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; field?: string } } {
    const error = this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
    return { error };
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const badRequest = (message: string, field?: string) => new ApiError(400, 'bad_request', message, field);
