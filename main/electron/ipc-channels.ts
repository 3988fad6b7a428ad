// The two IPC channels between the window and the main process. preload.cts repeats these names (a
// sandboxed preload cannot import project files); a unit test checks the two agree.
// The only folder that may import 'electron' is main/electron; this file needs nothing from it.
export const INVOKE_CHANNEL = 'attnvgg:invoke';
export const EVENT_CHANNEL = 'attnvgg:event';
/** API method names as the preload lets them through: `area.action`, letters only. */
export const METHOD_PATTERN = /^[a-z]+\.[a-zA-Z]+$/;
