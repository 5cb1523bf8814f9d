import type { Writable } from 'node:stream';

/** How much an SSE client may fall behind before it is dropped. */
export interface SseLimits {
  /** A client whose buffer has not drained this long after a write found it full is disconnected. */
  slowClientMs: number;
  /** A client with more than this many bytes waiting in the process (past what the socket holds) is disconnected at once. */
  maxBufferBytes: number;
}

/** Why a client was disconnected by the server: `slow` (did not drain in time), `buffer_full` (too much waiting). */
export type SseDropReason = 'slow' | 'buffer_full';

/**
 * States of one stream: `open` (writes go through), `backpressured` (the socket's buffer is full: writes are still
 * queued, bounded by `maxBufferBytes`, and the drain clock runs), `closed` (ended by either side or dropped).
 */
export type SseClientState = 'open' | 'backpressured' | 'closed';

/**
 * One server-sent-events client over a writable (the HTTP response). `write()` respects backpressure: a write that
 * finds the buffer full starts a `slowClientMs` clock that a `drain` stops; if it runs out, or the bytes waiting pass
 * `maxBufferBytes`, the socket is destroyed, so a reader that stopped reading costs a bounded amount of memory and
 * is told (its EventSource reconnects, and the dashboard reloads what it missed).
 */
export class SseClient {
  state: SseClientState = 'open';
  private slowTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly limits: SseLimits,
    private readonly onDrop: (reason: SseDropReason) => void = () => undefined,
  ) {
    out.on('drain', () => {
      if (this.state !== 'backpressured') return;
      this.state = 'open';
      clearTimeout(this.slowTimer);
      this.slowTimer = undefined;
    });
    out.on('close', () => this.close());
  }

  /** Queues `chunk`; false when the client is closed or was dropped by this write. */
  write(chunk: string): boolean {
    if (this.state === 'closed') return false;
    if (this.out.writableLength + Buffer.byteLength(chunk) > this.limits.maxBufferBytes) {
      this.drop('buffer_full');
      return false;
    }
    const flushed = this.out.write(chunk);
    if (!flushed && this.state === 'open') {
      this.state = 'backpressured';
      this.slowTimer = setTimeout(() => this.drop('slow'), this.limits.slowClientMs);
      this.slowTimer.unref();
    }
    return true;
  }

  /** Ends the stream gracefully (server shutdown). */
  end(): void {
    if (this.state === 'closed') return;
    this.close();
    this.out.end();
  }

  private drop(reason: SseDropReason): void {
    if (this.state === 'closed') return;
    this.close();
    this.onDrop(reason);
    this.out.destroy();
  }

  private close(): void {
    this.state = 'closed';
    clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
  }
}
