/** The shared signaling server the test runner started (see signaling-server-plugin.js). */
export async function signalingServerUrl(): Promise<string> {
  const answer = (await (await fetch('/__signaling', { cache: 'no-store' })).json()) as { url: string };
  return answer.url;
}

/** A signaling server of the test's own, which it may stop and start again on the same port. */
export interface PrivateSignalingServer {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a signaling server for one test. */
export async function privateSignalingServer(): Promise<PrivateSignalingServer> {
  const call = async (path: string) => (await (await fetch(path, { cache: 'no-store' })).json()) as { id: string; url: string };
  const { id, url } = await call('/__signaling/private/new');
  return {
    url,
    stop: async () => void (await call(`/__signaling/private/${id}/stop`)),
    start: async () => void (await call(`/__signaling/private/${id}/start`)),
  };
}
