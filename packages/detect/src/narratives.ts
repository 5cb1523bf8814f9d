import type { Alert } from '@tingfeng/contracts';
import { BoundedMap } from './lru.js';

/** A live narrative: the incident that alerts about one public conversation gather under. */
export interface Narrative {
  /** The key of the alert that started it: the incident key every linked alert carries. */
  incidentKey: string;
  /** Terms of every alert linked so far (bounded). */
  terms: string[];
  /** Event time of its latest alert, epoch ms. */
  lastAlertMs: number;
}

export type NarrativeSnapshot = [string, Narrative][];

const MAX_TERMS = 40;

/**
 * Two terms name the same thing when equal, or when one contains the other and both have two or more characters:
 * the segmenter keeps 死去的城市 whole in the root post while the replies burst on 死去.
 */
export function sameTerm(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length < 2 || b.length < 2) return false;
  return a.includes(b) || b.includes(a);
}

/**
 * Links alerts about one conversation into one incident. A cascade, the stories bursting from its words, the campaign
 * amplifying it and the official response to it are separate alerts with their own keys, but an on-call person
 * wants them as one incident: each alert gets `incidentKey`, the key of the first live narrative it shares terms
 * with (at least two terms, or its only term; a term matches another that contains it), else its own key. Responses follow what they answer,
 * and a story whose posts sit in an alerted cascade's tree (its `rootId`) follows that cascade.
 */
export class NarrativeLinker {
  private readonly byIncident: BoundedMap<string, Narrative>;
  /** alert key → incident key, so re-emissions of one key stay in one incident. */
  private readonly keyToIncident: BoundedMap<string, string>;

  constructor(
    private readonly idleMs: number,
    maxNarratives = 512,
  ) {
    this.byIncident = new BoundedMap(maxNarratives);
    this.keyToIncident = new BoundedMap(maxNarratives * 8);
  }

  /** Sets `incidentKey` on each alert, in order, and remembers the narratives they form. */
  link(alerts: Alert[], eventMs: number): Alert[] {
    for (const alert of alerts) {
      const known = this.keyToIncident.peek(alert.key);
      const target = typeof alert.respondsTo === 'string' ? this.keyToIncident.peek(alert.respondsTo) ?? alert.respondsTo : undefined;
      // A story bursting within an alerted cascade's replies is that cascade's conversation, whatever its words.
      const tree = alert.type === 'story' && alert.rootId !== undefined ? this.keyToIncident.peek(`cascade:${alert.rootId}`) : undefined;
      const incidentKey = known ?? target ?? tree ?? this.match(alert.terms, eventMs) ?? alert.key;
      this.keyToIncident.set(alert.key, incidentKey);
      const narrative = this.byIncident.get(incidentKey) ?? { incidentKey, terms: [], lastAlertMs: eventMs };
      for (const t of alert.terms) if (!narrative.terms.includes(t) && narrative.terms.length < MAX_TERMS) narrative.terms.push(t);
      narrative.lastAlertMs = Math.max(narrative.lastAlertMs, eventMs);
      this.byIncident.set(incidentKey, narrative);
      alert.incidentKey = incidentKey;
    }
    return alerts;
  }

  private match(terms: readonly string[], eventMs: number): string | undefined {
    if (terms.length === 0) return undefined;
    const needed = Math.min(2, terms.length);
    let best: { key: string; overlap: number; lastAlertMs: number } | undefined;
    for (const [, n] of this.byIncident.entries()) {
      if (eventMs - n.lastAlertMs > this.idleMs) continue;
      let overlap = 0;
      for (const t of terms) if (n.terms.some((u) => sameTerm(t, u))) overlap++;
      if (overlap < needed) continue;
      // The strongest overlap wins; on a tie the most recently active, then the smaller key, so the choice is stable.
      if (!best || overlap > best.overlap || (overlap === best.overlap && (n.lastAlertMs > best.lastAlertMs || (n.lastAlertMs === best.lastAlertMs && n.incidentKey < best.key)))) {
        best = { key: n.incidentKey, overlap, lastAlertMs: n.lastAlertMs };
      }
    }
    return best?.key;
  }

  counts(): { narratives: number } {
    return { narratives: this.byIncident.size };
  }

  snapshot(): { narratives: NarrativeSnapshot; keys: [string, string][] } {
    return structuredClone({ narratives: this.byIncident.toArray(), keys: this.keyToIncident.toArray() });
  }

  restore(s: { narratives: NarrativeSnapshot; keys: [string, string][] }): void {
    this.byIncident.load(structuredClone(s.narratives));
    this.keyToIncident.load(structuredClone(s.keys));
  }
}
