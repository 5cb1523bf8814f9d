import { encodeIncidentEvent, type IncidentEvent } from '@tingfeng/contracts';
import type { Producer } from '@tingfeng/kafka';

/** Where the processors put the events they cause: the log of record in the service, a list in their unit tests. */
export interface EventSink {
  append(events: readonly IncidentEvent[]): Promise<void>;
}

/** Appends the notifier's events (`notified`, `escalated`) to the log of record, keyed by incident. */
export class EventAppender implements EventSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  /**
   * Event ids are derived from what happened (`<eventId>.notified.<channelId>`, `<incidentId>.escalated.<level>`),
   * so appending again after a retry yields the same id, which the incidents view applies once.
   */
  async append(events: readonly IncidentEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: events.map(encodeIncidentEvent),
    });
  }
}

export const NOTIFIER_ACTOR = 'system:notifier';
