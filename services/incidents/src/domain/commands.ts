import { randomUUID } from 'node:crypto';
import type { IncidentEvent, IncidentEventKind } from '@tingfeng/contracts';
import { isOpen, type IncidentView } from './incident-view.js';

/** The actor of resolutions after the quiet period. */
export const AUTO_RESOLVE_ACTOR = 'system:auto-resolve';

/** A command the incident's state does not allow; the API answers it with `status`. */
export class CommandRejectedError extends Error {
  override readonly name = 'CommandRejectedError';
  constructor(
    message: string,
    readonly status: 409 | 404 = 409,
  ) {
    super(message);
  }
}

/** A person's command on an incident. */
export type Command =
  | { kind: 'acknowledge' }
  | { kind: 'resolve'; reason?: string | undefined }
  | { kind: 'note'; text: string }
  | { kind: 'assign'; assignee: string }
  | { kind: 'response'; accounts: string[]; startedAt?: string | undefined };

export interface CommandContext {
  actor: string;
  /** Wall-clock time recorded on the event. */
  nowIso: string;
  /** Makes event ids; injectable so tests are deterministic. */
  newId?: () => string;
}

/** The fields a person's event of `kind` carries besides its kind and data. */
function by(view: IncidentView, kind: IncidentEventKind, ctx: CommandContext): Pick<IncidentEvent, 'eventId' | 'incidentId' | 'actor' | 'at'> {
  const id = (ctx.newId ?? randomUUID)();
  return { eventId: `${view.id}.${kind}.${id}`, incidentId: view.id, actor: ctx.actor, at: ctx.nowIso };
}

/**
 * Decides the events a command produces against the current view, purely.
 * Acknowledging an acknowledged incident, or resolving a resolved one, produces nothing (PagerDuty's no-op);
 * acknowledging a resolved incident is rejected.
 */
export function decideCommand(view: IncidentView, command: Command, ctx: CommandContext): IncidentEvent[] {
  switch (command.kind) {
    case 'acknowledge':
      if (view.status === 'resolved') throw new CommandRejectedError(`incident ${view.id} is resolved; it cannot be acknowledged`);
      if (view.status === 'acknowledged') return [];
      return [{ ...by(view, 'acknowledged', ctx), kind: 'acknowledged', data: {} }];
    case 'resolve':
      if (view.status === 'resolved') return [];
      return [{ ...by(view, 'resolved', ctx), kind: 'resolved', data: command.reason ? { reason: command.reason } : {} }];
    case 'note':
      return [{ ...by(view, 'note_added', ctx), kind: 'note_added', data: { text: command.text } }];
    case 'assign':
      if (view.assignee === command.assignee) return [];
      return [{ ...by(view, 'assigned', ctx), kind: 'assigned', data: { assignee: command.assignee, previous: view.assignee ?? null } }];
    case 'response':
      return [{ ...by(view, 'response_started', ctx), kind: 'response_started', data: { accounts: command.accounts, startedAt: command.startedAt ?? ctx.nowIso } }];
  }
}

/**
 * The auto-resolution of an open incident whose last alert is at least `quietMs` of wall time old, or nothing.
 * Its event id is fixed per incident and last alert, so a sweep repeated after a crash appends it once.
 */
export function decideAutoResolve(view: IncidentView, nowMs: number, quietMs: number): IncidentEvent[] {
  if (!isOpen(view)) return [];
  const lastAlertAtMs = Date.parse(view.lastAlertAt);
  if (!(nowMs - lastAlertAtMs >= quietMs)) return [];
  return [
    {
      eventId: `${view.id}.auto-resolve.${lastAlertAtMs}`,
      incidentId: view.id,
      kind: 'resolved',
      actor: AUTO_RESOLVE_ACTOR,
      at: new Date(nowMs).toISOString(),
      data: { auto: true, quietMs, lastAlertAt: view.lastAlertAt, reason: `no new alerts for ${Math.round(quietMs / 60_000)} min` },
    },
  ];
}
