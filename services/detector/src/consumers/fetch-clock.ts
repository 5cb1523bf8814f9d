/** A broker node's fetcher not heard from for this long (its partitions moved away) no longer holds the clock back. */
const NODE_STALE_MS = 60_000;

interface NodeRounds {
  /** Wall time of the answer whose batches are being handled now, until the next fetch starts. */
  answeredAtWallMs: number | undefined;
  /** Wall time of the latest answer whose batches have all been handled. */
  handledAtWallMs: number | undefined;
  lastSeenWallMs: number;
}

/**
 * The wall clock the event-time merge decides idleness by: how far the broker is known to have answered, rather than
 * how much time has passed. A partition whose messages sit unread in the broker while the consumer is busy (a long
 * drain, a loaded machine) must not count as idle: that reorders the merged stream. A kafkajs fetcher fetches one
 * broker node's partitions, hands every batch of the answer to eachBatch, and only then fetches again, so when a fetch
 * starts, the node's previous answer has been handled in full: a partition it brought nothing for had nothing to read
 * when it was answered. The clock is the earliest such handled answer over the nodes being fetched from; before the
 * first one it is -Infinity (nothing is idle yet).
 */
export class FetchClock {
  private readonly nodes = new Map<number, NodeRounds>();

  /** kafkajs FETCH_START: the node's previous answer, if any, has been handled. */
  fetchStarted(nodeId: number, nowWallMs: number): void {
    const node = this.node(nodeId, nowWallMs);
    if (node.answeredAtWallMs !== undefined) node.handledAtWallMs = node.answeredAtWallMs;
    node.answeredAtWallMs = undefined;
  }

  /** kafkajs FETCH: the node answered; its batches are handled next. */
  fetchAnswered(nodeId: number, nowWallMs: number): void {
    this.node(nodeId, nowWallMs).answeredAtWallMs = nowWallMs;
  }

  /** A new group generation (rebalance, restart): the fetchers start over. */
  reset(): void {
    this.nodes.clear();
  }

  /** Wall time up to which every live fetcher's answers are handled (-Infinity before the first). */
  nowMs(nowWallMs: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const node of this.nodes.values()) {
      if (nowWallMs - node.lastSeenWallMs > NODE_STALE_MS) continue;
      earliest = Math.min(earliest, node.handledAtWallMs ?? Number.NEGATIVE_INFINITY);
    }
    return earliest === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : earliest;
  }

  private node(nodeId: number, nowWallMs: number): NodeRounds {
    let node = this.nodes.get(nodeId);
    if (!node) {
      node = { answeredAtWallMs: undefined, handledAtWallMs: undefined, lastSeenWallMs: nowWallMs };
      this.nodes.set(nodeId, node);
    }
    node.lastSeenWallMs = nowWallMs;
    return node;
  }
}
