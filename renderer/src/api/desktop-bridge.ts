// The object the Electron preload exposes on window.attnvgg (see main/electron/preload.cts). Types only
// plus a detector; the renderer imports nothing from Node or Electron.
import type { ApiReply } from '../../../main/api/api-client.js';

export interface DesktopBridge {
  invoke(method: string, payload: unknown): Promise<ApiReply>;
  onEvent(listener: (event: unknown) => void): () => void;
  /** The file-system path of a dropped file or folder (Electron's webUtils.getPathForFile). */
  pathForFile(file: File): string;
}

export function desktopBridge(): DesktopBridge | null {
  const candidate = (globalThis as { attnvgg?: DesktopBridge }).attnvgg;
  return candidate && typeof candidate.invoke === 'function' ? candidate : null;
}
