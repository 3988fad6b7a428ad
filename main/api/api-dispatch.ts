// Where a call enters the Node side, whatever the transport: checks the method name and validates the
// request against the contract, runs the handler, and turns any failure into an ApiReply with a message
// in plain words. Must not import Node, electron, services or anything above main/api.
import type { z } from 'zod';
import {
  API,
  isApiMethod,
  parseApiRequest,
  type ApiMethod,
  type ApiParsedRequest,
  type ApiResponse,
} from './api-contract.js';
import { ApiError, toApiError } from './api-error.js';
import type { ApiReply } from './api-client.js';

/** One function per method of the contract, given the validated request. */
export type ApiHandlers = { [M in ApiMethod]: (request: ApiParsedRequest<M>) => Promise<ApiResponse<M>> };

export interface DispatchOptions {
  /** Also validate answers against the contract (tests and development builds). */
  checkResponses?: boolean;
}

/** The first few problems zod found, as "where: what" in one line. */
export function describeZodIssues(error: Pick<z.ZodError, 'issues'>): string {
  return error.issues
    .slice(0, 5)
    .map((issue) =>
      issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
    )
    .join('; ');
}

export async function dispatchApiCall(
  handlers: ApiHandlers,
  method: unknown,
  payload: unknown,
  options: DispatchOptions = {},
): Promise<ApiReply> {
  try {
    if (!isApiMethod(method)) throw new ApiError('bad-request', `Unknown API method "${String(method)}".`);
    const parsed = parseApiRequest(method, payload);
    if (!parsed.success)
      throw new ApiError(
        'bad-request',
        `The request to ${method} is not valid: ${describeZodIssues(parsed.error)}.`,
      );
    const handler = handlers[method] as (request: unknown) => Promise<unknown>;
    const result = await handler(parsed.data);
    if (options.checkResponses) {
      const checked = API[method].response.safeParse(result);
      if (!checked.success)
        throw new ApiError(
          'failed',
          `The answer of ${method} does not match the contract: ${describeZodIssues(checked.error)}.`,
        );
    }
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: toApiError(error).toData() };
  }
}
