import type { Alert, IncidentEvent } from '@tingfeng/contracts';
import { SerialQueue } from '@tingfeng/lifecycle';
import type { Logger } from '@tingfeng/logger';
import type { Queue } from '@tingfeng/queue';
import type { NotifyJobData } from '@tingfeng/contracts';
import { CommandRejectedError, decideAutoResolve, decideCommand, type Command } from '../domain/commands.js';
import { decide, incidentKeyOf, type GroupingOutcome } from '../domain/grouping.js';
import type { IncidentView } from '../domain/incident-view.js';
import type { IncidentEventLog } from '../events/event-log.js';
import { enqueueNotifications, type NotableEvent } from '../jobs/notifications.js';
import type { IncidentsMetrics } from '../metrics.js';
import type { ViewEpoch } from '../store/view-epoch.js';
import type { ViewStore } from '../store/view-store.js';

export interface IncidentCommandsOptions {
  store: ViewStore;
  log: IncidentEventLog;
  notifications: Queue<NotifyJobData>;
  metrics: IncidentsMetrics;
  logger: Logger;
  publicUrl: string;
  autoResolveMs: number;
  /**
   * Checked after each command: if the view was wiped while it ran, what it read (an incident missing, nothing to
   * notify) may be false, so the command fails (ViewLostError) and its job is retried by the next process.
   */
  epoch?: Pick<ViewEpoch, 'verify'>;
  /** Wall clock; injectable for tests. */
  nowMs?: () => number;
}

/**
 * The single writer's command path: read the view, decide the events (pure), append them to the log, wait until
 * the view shows them, then enqueue the notifications. One command at a time, so two writers of one incident
 * (an alert and an ack) never decide against the same stale view.
 */
export class IncidentCommands {
  private readonly commands = new SerialQueue();
  private readonly now: () => number;

  constructor(private readonly options: IncidentCommandsOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const checked = async (): Promise<T> => {
      const epoch = this.options.epoch;
      if (!epoch) return work();
      // Whatever the work answered (a 404 included), it stands only if the view was whole throughout.
      const result = await work().then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await epoch.verify();
      if (!result.ok) throw result.error;
      return result.value;
    };
    return this.commands.run(checked);
  }

  /** Groups one alert into an incident. Idempotent: an alert already grouped only re-enqueues its notifications (deduplicated). */
  handleAlert(alert: Alert): Promise<{ outcome: GroupingOutcome; incidentId: string | undefined }> {
    return this.serial(async () => {
      const { store, metrics } = this.options;
      const known = await store.incidentOfAlert(alert.id);
      if (known) {
        const view = await store.get(known);
        if (view) await this.notify(view.timeline.filter((e) => e.data['alertId'] === alert.id), view);
        metrics.alerts.inc({ outcome: 'duplicate' });
        return { outcome: 'duplicate' as const, incidentId: known };
      }
      const open = await store.openFor(incidentKeyOf(alert));
      const decision = decide(open, alert, new Date(this.now()).toISOString());
      const view = await this.commit(decision.events, decision.incidentId);
      if (view) await this.notify(decision.events, view);
      metrics.alerts.inc({ outcome: decision.outcome });
      return { outcome: decision.outcome, incidentId: decision.incidentId };
    });
  }

  /** Runs a person's command; returns the incident after it. Throws CommandRejectedError (404/409). */
  command(incidentId: string, command: Command, actor: string): Promise<IncidentView> {
    return this.serial(async () => {
      const view = await this.options.store.get(incidentId);
      if (!view) throw new CommandRejectedError(`incident ${incidentId} not found`, 404);
      const events = decideCommand(view, command, { actor, nowIso: new Date(this.now()).toISOString() });
      const after = (await this.commit(events, incidentId)) ?? view;
      await this.notify(events, after);
      return after;
    });
  }

  /** Resolves every open incident quiet for the auto-resolve period; returns how many. */
  autoResolve(): Promise<number> {
    return this.serial(async () => {
      const { store, autoResolveMs, logger } = this.options;
      const nowMs = this.now();
      let resolved = 0;
      for (const id of await store.quietSince(nowMs - autoResolveMs)) {
        const view = await store.get(id);
        if (!view) continue;
        const events = decideAutoResolve(view, nowMs, autoResolveMs);
        if (events.length === 0) continue;
        const after = await this.commit(events, id);
        if (after) await this.notify(events, after);
        logger.info({ incidentId: id, lastAlertAt: view.lastAlertAt }, 'incident auto-resolved');
        resolved++;
      }
      return resolved;
    });
  }

  private async commit(events: IncidentEvent[], incidentId: string | undefined): Promise<IncidentView | undefined> {
    if (events.length === 0 || !incidentId) return incidentId ? this.options.store.get(incidentId) : undefined;
    await this.options.log.append(events);
    for (const e of events) this.options.metrics.eventsAppended.inc({ kind: e.kind });
    return this.options.store.get(incidentId);
  }

  private async notify(events: readonly NotableEvent[], view: IncidentView): Promise<void> {
    const changes = await enqueueNotifications(this.options.notifications, events, view, this.options.publicUrl);
    for (const change of changes) this.options.metrics.notificationsEnqueued.inc({ change });
  }
}
