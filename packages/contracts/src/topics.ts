/** Kafka topic names. Producers and consumers import these; no topic name is spelled anywhere else. */
export const TOPICS = {
  posts: 'posts',
  postsDlq: 'posts.dlq',
  postsEnriched: 'posts.enriched',
  incidentEvents: 'incident-events',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export interface TopicSpec {
  name: TopicName;
  /** The partition count is the ceiling on consumer instances of a group reading the topic. */
  partitions: number;
  /** Topic-level configs applied at creation. */
  configs?: Record<string, string>;
}

/** Every topic the system declares, with the partition count the code expects. */
export const TOPIC_SPECS: readonly TopicSpec[] = [
  // Room above the contract's 1 MiB limit, so an oversize post reaches the analyzer and is dead-lettered with its reason.
  { name: TOPICS.posts, partitions: 6, configs: { 'max.message.bytes': String(2 * 1024 * 1024) } },
  // Dead letters carry the refused bytes whole (base64), so oversize posts need room here too.
  { name: TOPICS.postsDlq, partitions: 1, configs: { 'max.message.bytes': String(4 * 1024 * 1024) } },
  { name: TOPICS.postsEnriched, partitions: 6 },
  // The incident log of record: one partition keeps a total order of events; never compacted.
  { name: TOPICS.incidentEvents, partitions: 1, configs: { 'retention.ms': '-1' } },
];

/** BullMQ queue names. */
export const QUEUES = {
  alerts: 'alerts',
  notifications: 'notifications',
  escalations: 'escalations',
  /** The daily reports (舆情日报): a repeatable job in TIME_ZONE, owned by the incidents service. */
  reports: 'reports',
} as const;

/** Consumer group ids. */
export const GROUPS = {
  analyzer: 'tingfeng-analyzer',
  detector: 'tingfeng-detector',
  incidents: 'tingfeng-incidents',
  archiver: 'tingfeng-archiver',
} as const;

/** The Kafka message key of a post: reposts travel with their root so one partition sees a whole cascade. */
export function postKey(post: { id: string; rootId?: string | undefined }): string {
  return post.rootId ?? post.id;
}
