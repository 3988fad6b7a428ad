// The checks every IPC call from a window passes before it reaches the API backend, kept apart from
// Electron so that Node tests can run them without the Electron binary: the sender must be the main frame
// of a page of the app's own origin, app://attnvgg, which serves only the built renderer folder (not
// another origin, a file:// page, a sub-frame or a frame that navigated away), the method must be one of
// the contract's, and the payload must be plain
// data of bounded size without prototype-polluting keys that the contract's zod schema accepts.
// ipc-api.ts binds this to ipcMain. Must not import electron (nor renderer or cli).
import {
  describeZodIssues,
  isApiMethod,
  parseApiRequest,
  type ApiErrorData,
  type ApiMethod,
  type ApiReply,
} from '../api/index.js';
import { appUrl } from './app-scheme.js';
import { METHOD_PATTERN } from './ipc-channels.js';

/** What the guard needs to know of Electron's `event.senderFrame` (a WebFrameMain, or null once gone). */
export interface IpcSenderFrame {
  /** The frame's current URL (after any navigation). */
  readonly url: string;
  /** The parent frame; null for a window's main frame. */
  readonly parent: unknown;
  /** True once the frame has navigated or been removed (Electron 34+; absent before). */
  readonly detached?: boolean;
}

/** Payloads are plain JSON-like data. Bounds match the browser mode's 1 MiB WebSocket messages. */
export const IPC_LIMITS = {
  /** Characters of all strings and keys together, about the payload's serialised size. */
  maxChars: 1024 * 1024,
  /** Nesting of objects and arrays. */
  maxDepth: 32,
  /** Objects, arrays and values together. */
  maxNodes: 100_000,
} as const;

/** Keys that could reach an object's prototype if some code copied the payload naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const refused = (code: ApiErrorData['code'], message: string): ApiReply => ({
  ok: false,
  error: { code, message },
});

/**
 * True when `senderUrl` is a page of the app's own origin (app://attnvgg, see app-scheme.ts), whose
 * handler serves the built renderer folder and nothing else. file:// pages, other schemes, other hosts,
 * a port or credentials do not pass.
 */
export function fromOwnPage(senderUrl: string | undefined): boolean {
  return appUrl(senderUrl) !== null;
}

/** Why the frame is not our page, or null when it is. */
export function senderProblem(frame: IpcSenderFrame | null | undefined): string | null {
  if (!frame) return 'the calling page is gone';
  if (frame.detached === true) return 'the calling frame has navigated away or was removed';
  if (frame.parent !== null && frame.parent !== undefined)
    return 'calls from frames inside a page are not accepted';
  if (!fromOwnPage(frame.url)) return 'the calling page is not one of the app’s own';
  return null;
}

/**
 * Why `payload` is not plain bounded data, or null when it is. Accepts what Electron's structured clone
 * can deliver from a page; refuses functions, symbols, class instances (Date, Map, typed arrays, ...),
 * forbidden keys at any depth, and anything beyond IPC_LIMITS.
 */
export function payloadProblem(payload: unknown): string | null {
  let chars = 0;
  let nodes = 0;
  const stack: { value: unknown; depth: number; where: string }[] = [
    { value: payload, depth: 0, where: 'the payload' },
  ];
  while (stack.length > 0) {
    const { value, depth, where } = stack.pop() as (typeof stack)[number];
    if (++nodes > IPC_LIMITS.maxNodes) return `it has more than ${IPC_LIMITS.maxNodes} values`;
    if (value === null || value === undefined || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${where} is not a finite number`;
      continue;
    }
    if (typeof value === 'string') {
      chars += value.length;
      if (chars > IPC_LIMITS.maxChars) return `it is larger than ${IPC_LIMITS.maxChars / 1024} KiB`;
      continue;
    }
    if (typeof value !== 'object') return `${where} is a ${typeof value}, not data`;
    if (depth >= IPC_LIMITS.maxDepth) return `it is nested deeper than ${IPC_LIMITS.maxDepth} levels`;
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return `${where} is not a plain array`;
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, where: `${where}[${i}]` }));
      continue;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return `${where} is not a plain object`;
    if (Object.getOwnPropertySymbols(value).length > 0) return `${where} has symbol keys`;
    for (const key of Object.getOwnPropertyNames(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `${where} has the forbidden key "${key}"`;
      chars += key.length;
      if (chars > IPC_LIMITS.maxChars) return `it is larger than ${IPC_LIMITS.maxChars / 1024} KiB`;
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && !('value' in descriptor)) return `${where}.${key} is an accessor, not data`;
      stack.push({ value: descriptor?.value, depth: depth + 1, where: `${where}.${key}` });
    }
  }
  return null;
}

export interface IpcGuardOptions {
  /** Answers a checked call (main/server's ApiBackend.call, which dispatches to the handlers). */
  call: (method: ApiMethod, payload: unknown) => Promise<ApiReply>;
}

/** The invoke handler of the IPC channel, minus Electron: (sender frame, method, payload) -> reply. */
export type IpcInvokeHandler = (
  frame: IpcSenderFrame | null | undefined,
  method: unknown,
  payload: unknown,
) => Promise<ApiReply>;

/**
 * Builds the IPC invoke handler: refuses calls from anything but our own page, unknown methods and
 * payloads that are not plain bounded data or that the contract's request schema rejects, and passes the
 * rest to `call`. Never throws: every refusal is an ApiReply with a plain message.
 */
export function createIpcGuard(options: IpcGuardOptions): IpcInvokeHandler {
  const { call } = options;
  return async (frame, method, payload) => {
    try {
      const sender = senderProblem(frame);
      if (sender) return refused('refused', `Calls are accepted only from the app's own page: ${sender}.`);
      if (
        typeof method !== 'string' ||
        method.length > 100 ||
        !METHOD_PATTERN.test(method) ||
        !isApiMethod(method)
      )
        return refused('bad-request', `Unknown API method "${String(method).slice(0, 100)}".`);
      const shape = payloadProblem(payload);
      if (shape) return refused('bad-request', `The request to ${method} is not valid: ${shape}.`);
      const parsed = parseApiRequest(method, payload);
      if (!parsed.success)
        return refused(
          'bad-request',
          `The request to ${method} is not valid: ${describeZodIssues(parsed.error)}.`,
        );
      return await call(method, payload);
    } catch (error) {
      return refused(
        'failed',
        `The call could not be handled: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  };
}
