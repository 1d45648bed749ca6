/** The part of `RTCDataChannel` the sender uses (structural, so tests can fake it). */
export interface DataChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener(type: 'bufferedamountlow', listener: () => void): void;
}

/** When sending pauses and resumes. */
export interface BackpressureOptions {
  /** Sending pauses while more than this many bytes wait in the channel. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** …and resumes when the channel drained to this many (`bufferedAmountLowThreshold`). Default 256 KiB. */
  readonly lowWaterMark?: number;
}

/**
 * Some browser versions have missed `bufferedamountlow` events; while paused, the sender also
 * looks at `bufferedAmount` this often, so a lost event costs a moment instead of a stuck queue.
 */
const RECHECK_MS = 250;

/**
 * Writes frames to a data channel strictly in order, pausing while the channel's buffer is above
 * the high-water mark, so a large message neither overflows the channel (which would close it)
 * nor piles up in memory.
 */
export class BackpressuredSender {
  private readonly highWaterMark: number;
  private tail: Promise<void> = Promise.resolve();
  /** Writes not settled yet. */
  private pending = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly channel: DataChannelLike,
    options: BackpressureOptions = {},
  ) {
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    const low = options.lowWaterMark ?? 256 * 1024;
    if (!(low >= 0 && low < this.highWaterMark)) throw new RangeError('lowWaterMark must be below highWaterMark');
    channel.bufferedAmountLowThreshold = low;
  }

  /**
   * Sends every frame, after the frames of all earlier calls. Resolves when the last one was handed
   * to the channel; rejects once the sender failed (the channel closed or refused a frame).
   */
  write(frames: Iterable<Uint8Array<ArrayBuffer>>): Promise<void> {
    // An idle sender hands the frames over within this task: a small message then leaves before
    // whatever else the caller's turn queued (status updates, storage), not after it.
    const run = this.pending === 0 ? this.pump(frames) : this.tail.then(() => this.pump(frames));
    this.pending++;
    this.tail = run.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return run;
  }

  /** Makes every pending and future write reject with `error`. */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  private async pump(frames: Iterable<Uint8Array<ArrayBuffer>>): Promise<void> {
    for (const frame of frames) {
      while (this.failure === undefined && this.channel.bufferedAmount > this.highWaterMark) {
        await this.drained();
      }
      if (this.failure) throw this.failure;
      try {
        this.channel.send(frame);
      } catch (cause) {
        this.fail(new Error(`the data channel refused a frame (${describe(cause)})`));
        throw this.failure;
      }
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.channel.removeEventListener('bufferedamountlow', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      this.channel.addEventListener('bufferedamountlow', done);
      this.wake = done;
    });
  }
}

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));
