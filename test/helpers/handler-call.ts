// Calls an API method on handlers the way the transports do (checking the request and, here, the
// response against the contract) and gives its result, or throws its error with the API error code.
import {
  dispatchApiCall,
  type ApiHandlers,
  type ApiMethod,
  type ApiRequest,
  type ApiResponse,
} from '../../main/api/index.js';

export async function callHandler<M extends ApiMethod>(
  handlers: ApiHandlers,
  method: M,
  request: ApiRequest<M>,
): Promise<ApiResponse<M>> {
  const reply = await dispatchApiCall(handlers, method, request, { checkResponses: true });
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.result as ApiResponse<M>;
}
