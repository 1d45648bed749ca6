/** Why a peer connection could not be made, in the words the status shows. */
export const IceProblem = {
  /** No TURN server is configured: only devices that see each other's addresses connect. */
  noRelay: 'no relay configured',
  /** The TURN server refused this device's credentials (401) or its permission (403). */
  relayRefused: 'relay refused',
  /** A TURN server is configured but gave no relay address (not reachable from here). */
  relayUnreachable: 'relay unreachable',
} as const;
export type IceProblem = (typeof IceProblem)[keyof typeof IceProblem];

/** STUN/TURN error codes that mean the relay said no (RFC 8656): unauthorized, forbidden, wrong credentials. */
const REFUSAL_CODES = new Set([401, 403, 431, 441]);

/**
 * Watches one peer connection's candidate gathering to tell why it cannot connect, without waiting
 * for `failed`: with a wrong or expired TURN credential Chromium reports `icecandidateerror` 401,
 * completes gathering without a relay candidate, and the connection stays `new` until a timeout.
 * `onHopeless` is called once when gathering ends and the connection cannot work (relay-only
 * policy and no relay candidate).
 */
export class IceGatheringWatch {
  private sawRelay = false;
  private refusedCode: number | undefined;
  private gathered = false;
  private reported = false;

  constructor(
    pc: RTCPeerConnection | null,
    private readonly config: Pick<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'>,
    private readonly onHopeless: (problem: IceProblem) => void,
  ) {
    if (!pc || typeof pc.addEventListener !== 'function') return;
    pc.addEventListener('icecandidate', (event) => {
      if (event.candidate === null) this.complete();
      else if (event.candidate.type === 'relay' || / typ relay /.test(event.candidate.candidate)) this.sawRelay = true;
    });
    pc.addEventListener('icecandidateerror', (event) => {
      const { errorCode } = event as RTCPeerConnectionIceErrorEvent;
      if (REFUSAL_CODES.has(errorCode)) this.refusedCode ??= errorCode;
    });
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') this.complete();
    });
  }

  /** True when the configuration names a TURN relay. */
  get relayConfigured(): boolean {
    return (this.config.iceServers ?? []).some((server) => [server.urls].flat().some((url) => /^turns?:/.test(url)));
  }

  /** Why this connection would fail, as far as this side can tell; undefined when its relay works. */
  problem(): IceProblem | undefined {
    if (!this.relayConfigured) return IceProblem.noRelay;
    if (this.refusedCode !== undefined) return IceProblem.relayRefused;
    if (this.gathered && !this.sawRelay) return IceProblem.relayUnreachable;
    return undefined;
  }

  private complete(): void {
    if (this.gathered) return;
    this.gathered = true;
    const problem = this.problem();
    if (this.reported || problem === undefined || this.sawRelay || this.config.iceTransportPolicy !== 'relay') return;
    this.reported = true;
    this.onHopeless(problem);
  }
}
