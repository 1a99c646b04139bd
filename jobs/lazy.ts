// Dependencies a job handler makes on its first job (a platform client, the rules),
// not when the worker starts.

/**
 * `make()` once, shared by every caller, but a failure is not kept: the platform down
 * when the first chunk arrived must not fail every later chunk of this process.
 */
export function madeOnFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make().catch((err: unknown) => {
    made = null;
    throw err;
  }));
}
