/**
 * A loader that imports a module on its first call and hands every later call the same promise.
 * A failed load is not remembered, so the next call tries again; its error says what to do (the
 * usual cause is a new version of the app that no longer has this tab's files).
 */
export function lazyModule<T>(what: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw new Error(`${what} could not be loaded (${error instanceof Error ? error.message : String(error)}). Reload the page to get the current version of the app.`);
    }));
}
