import type { Redis } from 'ioredis';
import type { Logger } from '@tingfeng/logger';
import { type RedisKeys } from '@tingfeng/queue';
import { ChannelSchema, RoutesConfigSchema, SilenceSchema, type Channel, type RoutesConfig, type Silence } from '@tingfeng/contracts';

/** The routing configuration in force: read from Redis on every job, so API changes apply without a restart. */
export interface NotifyConfig {
  /** Undefined when `{p}config:routes` is absent: the environment's default route applies. */
  routes: RoutesConfig | undefined;
  channels: Map<string, Channel>;
  silences: Silence[];
}

/** Reads `{p}config:routes|channels|silences`. A malformed entry is skipped (and logged by id), never fatal. */
export class ConfigStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly envChannels: Channel[],
    private readonly logger: Logger,
  ) {}

  async load(): Promise<NotifyConfig> {
    const [routesRaw, channelsRaw, silencesRaw] = await this.redis.mget(this.keys.routes, this.keys.channels, this.keys.silences);
    const channels = new Map<string, Channel>(this.envChannels.map((c) => [c.id, c]));
    for (const c of this.list<Channel>(channelsRaw ?? null, 'channels', (v) => ChannelSchema.safeParse(v))) channels.set(c.id, c);
    let routes: RoutesConfig | undefined;
    if (routesRaw) {
      const parsed = RoutesConfigSchema.safeParse(this.json(routesRaw, 'routes'));
      if (parsed.success) routes = parsed.data;
      else this.logger.error({ issue: parsed.error.issues[0]?.message }, 'routes configuration is malformed; using the default route');
    }
    return { routes, channels, silences: this.list<Silence>(silencesRaw ?? null, 'silences', (v) => SilenceSchema.safeParse(v)) };
  }

  private json(raw: string, what: string): unknown {
    try {
      return JSON.parse(raw);
    } catch {
      this.logger.error({ what }, 'configuration is not JSON; ignored');
      return undefined;
    }
  }

  private list<T>(raw: string | null, what: string, parse: (v: unknown) => { success: true; data: T } | { success: false }): T[] {
    if (!raw) return [];
    const value = this.json(raw, what);
    if (!Array.isArray(value)) return [];
    const out: T[] = [];
    value.forEach((entry, index) => {
      const parsed = parse(entry);
      if (parsed.success) out.push(parsed.data);
      // Only the id: a channel entry carries secrets.
      else this.logger.warn({ what, index, id: (entry as { id?: unknown } | null)?.id }, 'malformed configuration entry skipped');
    });
    return out;
  }
}
