// BullMQ 6 refuses custom job ids with a colon unless they have exactly three colon-separated parts, so every
// variable part is escaped and ids are built as `kind:part:part`.
function part(value: string): string {
  return value.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/** One delivery of one event to one channel: a retried or re-enqueued notification never adds a second. */
export function deliveryJobId(eventId: string, channelId: string): string {
  return `dlv:${part(eventId)}:${part(channelId)}`;
}

/** The digest job of one batch of a channel's pending items. */
export function digestJobId(channelId: string, bucket: string, batch: number): string {
  return `dig:${part(channelId)}.${bucket}:${batch}`;
}

/** The escalation of an incident to a level (the shared design's `esc:<incidentId>:<level>`). */
export function escalationJobId(incidentId: string, level: number): string {
  return `esc:${part(incidentId)}:${level}`;
}
