/**
 * Which posts may move event time forward: the rule shared by the backtest's reader and each partition of the live
 * event-time merge, so that one bogus `createdAt` (a crawler's time-zone bug, a 2999 typo) can neither stop a reading
 * nor drag the clock forward, while a real history with quiet weeks between posts is read whole.
 *
 * The rule, over one ordered sequence of posts (a file, or one partition):
 * - the clock is the largest event time accepted so far (none before the first post);
 * - a post at most `maxJumpMs` ahead of the clock is accepted at once; so is a post behind it, however far (that is
 *   lateness, the engine's business, not a jump);
 * - a post further ahead, or the first post of all, is a *jump*. Live, a jump within `maxJumpMs` of its own receipt
 *   time is accepted at once: it is current, its partition was merely quiet. Otherwise the jump is held, with the posts
 *   after it, and the next `confirmPosts` posts vote: a post at most `maxJumpMs` before the jump, or anywhere after
 *   it, is consistent with it (time moved on); an earlier one contradicts it. As soon as half of them are consistent
 *   the jump is accepted; as soon as more than half contradict it, it is refused: it is ahead of its neighbours. A
 *   refused post never reaches the clock. Either way the posts held after it are then read again, in order.
 *
 * A vote, not the first confirmation, so that two bogus posts close together (2016 and 2017 in a 2013 history) cannot
 * vouch for each other. The sequence can end (end of input) or fall silent (an idle partition) with a jump held: its
 * owner then settles it ({@link EventClock.settle}). Verdicts come out in input order, each post exactly once.
 */

/** How far one post may move the clock, and how many later posts judge a larger jump. */
export interface EventClockOptions {
  /** A post more than this ahead of the clock is a jump that later posts must vote for, event time. */
  maxJumpMs: number;
  /** Posts after a jump that vote on it. At least 1. */
  confirmPosts: number;
}

/** Called once per post, in input order: `clockMs` is the clock after it (for an accepted post, its merge time). */
export type ClockVerdict<T> = (value: T, eventTimeMs: number, accepted: boolean, clockMs: number | null) => void;

/** The votes on a held jump so far. */
export interface HeldJump {
  eventTimeMs: number;
  /** Posts after it consistent with it. */
  consistent: number;
  /** Posts after it that lie more than `maxJumpMs` before it. */
  contradicting: number;
  /** Its wall-clock receipt time, where there is one (live). */
  receivedAtMs?: number;
}

/** What {@link EventClock.settle} does with a held jump: accept or refuse it, or keep holding it. */
export type Settlement = 'accept' | 'refuse' | 'hold';

interface Held<T> {
  value: T;
  eventTimeMs: number;
  receivedAtMs: number | undefined;
}

/** The rule of the module comment over one sequence; pure, no wall clock. */
export class EventClock<T> {
  private clock: number | null;
  private jump: Held<T> | undefined;
  /** The posts after the held jump, in order. */
  private after: Held<T>[] = [];
  private consistent = 0;
  private contradicting = 0;

  constructor(
    private readonly options: EventClockOptions,
    private readonly verdict: ClockVerdict<T>,
    /** The clock to start from (a resumed partition's), or null. */
    clockMs: number | null = null,
  ) {
    if (!Number.isInteger(options.confirmPosts) || options.confirmPosts < 1) throw new RangeError('confirmPosts must be an integer of at least 1');
    if (!(options.maxJumpMs >= 0)) throw new RangeError('maxJumpMs must be at least 0');
    this.clock = clockMs;
  }

  /** The largest event time accepted, epoch ms; null before any. */
  get clockMs(): number | null {
    return this.clock;
  }

  /** Posts held: the jump and those after it (0 when no jump is held). */
  get held(): number {
    return this.jump ? 1 + this.after.length : 0;
  }

  /** The jump being held and its votes so far, or undefined. */
  heldJump(): HeldJump | undefined {
    const jump = this.jump;
    if (!jump) return undefined;
    const held: HeldJump = { eventTimeMs: jump.eventTimeMs, consistent: this.consistent, contradicting: this.contradicting };
    if (jump.receivedAtMs !== undefined) held.receivedAtMs = jump.receivedAtMs;
    return held;
  }

  /** The held jump's value: the earliest post not yet decided. */
  firstHeld(): T | undefined {
    return this.jump?.value;
  }

  /** Reads the next post of the sequence; `receivedAtMs` is its wall-clock receipt time where there is one (live). */
  push(value: T, eventTimeMs: number, receivedAtMs?: number): void {
    const jump = this.jump;
    if (jump === undefined) {
      this.read(value, eventTimeMs, receivedAtMs);
      return;
    }
    this.after.push({ value, eventTimeMs, receivedAtMs });
    if (eventTimeMs >= jump.eventTimeMs - this.options.maxJumpMs) this.consistent++;
    else this.contradicting++;
    const k = this.options.confirmPosts;
    if (this.consistent * 2 >= k) this.decide(true);
    else if (this.contradicting * 2 > k) this.decide(false);
  }

  /**
   * Decides held jumps without waiting for their whole vote: `settle` says, from the votes so far, whether to accept
   * it, refuse it or keep holding it. Deciding reads again the posts held after it, which may hold a new jump: that is
   * settled too, until nothing is held or `settle` says hold. See {@link settleByVotes} for the end of a file.
   */
  settle(settle: (jump: HeldJump) => Settlement): void {
    for (;;) {
      const jump = this.heldJump();
      if (jump === undefined) return;
      const s = settle(jump);
      if (s === 'hold') return;
      this.decide(s === 'accept');
    }
  }

  /** Decides the held jump, then reads the posts held after it (which may hold a new jump). */
  private decide(accepted: boolean): void {
    const jump = this.jump!;
    const after = this.after;
    this.jump = undefined;
    this.after = [];
    this.consistent = 0;
    this.contradicting = 0;
    if (accepted) this.accept(jump.value, jump.eventTimeMs);
    else this.verdict(jump.value, jump.eventTimeMs, false, this.clock);
    for (const h of after) this.push(h.value, h.eventTimeMs, h.receivedAtMs);
  }

  private read(value: T, eventTimeMs: number, receivedAtMs: number | undefined): void {
    const { maxJumpMs } = this.options;
    const jump = this.clock === null || eventTimeMs > this.clock + maxJumpMs;
    const current = receivedAtMs !== undefined && Math.abs(eventTimeMs - receivedAtMs) <= maxJumpMs;
    if (jump && !current) this.jump = { value, eventTimeMs, receivedAtMs };
    else this.accept(value, eventTimeMs);
  }

  private accept(value: T, eventTimeMs: number): void {
    if (this.clock === null || eventTimeMs > this.clock) this.clock = eventTimeMs;
    this.verdict(value, eventTimeMs, true, this.clock);
  }
}

/**
 * The end of a file: the vote so far decides (a tie accepts), so a jump with no post after it is accepted: nothing can
 * contradict it any more, nor be disturbed by it.
 */
export const settleByVotes = (jump: HeldJump): Settlement => (jump.consistent >= jump.contradicting ? 'accept' : 'refuse');

/**
 * A partition fallen silent, or caught up with its log, with a jump held (live). A jump more than `maxJumpMs` ahead of
 * its own receipt time is refused, whatever the votes so far: it claims to come from the future, and two bogus posts
 * in a row must not vouch for each other on a partial vote. A post without a receipt time is judged against
 * `nowWallMs` where given: it cannot have been received after now, so a `createdAt` beyond now + `maxJumpMs` (a 2999
 * typo sent straight to the topic) is from the future too. Any other jump is decided by the votes so far, a tie
 * accepting it (an old post replayed, its partition merely quiet).
 */
export function settleIdle(maxJumpMs: number, nowWallMs?: number): (jump: HeldJump) => Settlement {
  return (jump) => {
    // A clock that is not a time yet (-Infinity before a first reading) judges nothing.
    const receivedAtMs = jump.receivedAtMs ?? (nowWallMs !== undefined && Number.isFinite(nowWallMs) ? nowWallMs : undefined);
    if (receivedAtMs !== undefined && jump.eventTimeMs > receivedAtMs + maxJumpMs) return 'refuse';
    return jump.contradicting > jump.consistent ? 'refuse' : 'accept';
  };
}
