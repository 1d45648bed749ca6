/** The part of `BroadcastChannel` the local discovery and transport use (structural, for tests). */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** A `BroadcastChannel`-compatible constructor. */
export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

/** The browser's `BroadcastChannel`; throws (a programmer error) where there is none. */
export function defaultBroadcastChannel(where: string): BroadcastChannelConstructor {
  if (typeof BroadcastChannel !== 'function') throw new Error(`${where}: this environment has no BroadcastChannel`);
  return BroadcastChannel;
}

/**
 * Subscribes to the page lifecycle: `onAway` when the tab goes away or is frozen (`pagehide`,
 * `freeze`), `onBack` when it returns from the back/forward cache or thaws (`pageshow` with
 * `persisted`, `resume`). Returns the unsubscribe function; does nothing outside a window.
 */
export function watchPageLifecycle(onAway: () => void, onBack: (event: Event) => void): () => void {
  if (typeof window === 'undefined' || typeof document === 'undefined') return () => undefined;
  const back = (event: Event): void => {
    // A first `pageshow` is the page loading, not coming back from the back/forward cache.
    if (event.type === 'pageshow' && !(event as PageTransitionEvent).persisted) return;
    onBack(event);
  };
  window.addEventListener('pagehide', onAway);
  document.addEventListener('freeze', onAway);
  window.addEventListener('pageshow', back);
  document.addEventListener('resume', back);
  return () => {
    window.removeEventListener('pagehide', onAway);
    document.removeEventListener('freeze', onAway);
    window.removeEventListener('pageshow', back);
    document.removeEventListener('resume', back);
  };
}
