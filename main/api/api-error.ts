// The error every API call can answer with: a code a program can switch on and a message in plain words
// that the UI shows as is. Pure data; must not import Node, electron, services or anything above main/api.
import { z } from 'zod';

export const API_ERROR_CODES = [
  'bad-request', // the request did not match the contract
  'not-found', // no such dataset, run or image
  'conflict', // e.g. a training run is already going
  'not-available', // a feature that is not built yet, or a file that is not there yet
  'refused', // a path outside the folders the user chose
  'failed', // the service tried and failed; the message says why
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export const ApiErrorSchema = z.object({
  code: z.enum(API_ERROR_CODES),
  message: z.string(),
});
export type ApiErrorData = z.infer<typeof ApiErrorSchema>;

/** Thrown by API handlers and re-thrown by clients; `message` is meant for the user. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }

  toData(): ApiErrorData {
    return { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into an ApiError with a readable message (never a stack trace). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError('failed', error.message || error.name);
  return new ApiError('failed', String(error));
}
