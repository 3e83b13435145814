// Polls a condition until it holds or a deadline passes (tests never sleep a fixed time).
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeout = 10_000, interval = 20, message = 'condition' }: { timeout?: number; interval?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${message}${last instanceof Error ? `: ${last.message}` : ''}`);
}
