/** Web Locks are released asynchronously after `release()`: resolves once no lock names `nodeId`. */
export async function lockReleased(nodeId: string): Promise<void> {
  for (;;) {
    const { held = [] } = await navigator.locks.query();
    if (!held.some((lock) => lock.name?.endsWith(`:${nodeId}`))) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
