// Waits for a condition a test cannot await directly (events arriving over a socket): polls `check`
// every 20 ms and resolves with its first truthy value, or fails after `timeoutMs` naming `what`.
export async function until<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 120_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
