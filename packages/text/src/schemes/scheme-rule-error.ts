/** A monitoring-scheme rule that does not parse: `position` is the 0-based offset in the rule where it went wrong. */
export class SchemeRuleError extends Error {
  override readonly name = 'SchemeRuleError';

  constructor(
    /** What is wrong, in words an analyst can act on. */
    readonly reason: string,
    /** 0-based UTF-16 offset in the rule. */
    readonly position: number,
    /** The rule as given. */
    readonly rule: string,
  ) {
    super(`${reason} at position ${position}: ${excerpt(rule, position)}`);
  }
}

/** The rule with a marker at the position, trimmed around it for long rules. */
function excerpt(rule: string, position: number): string {
  const from = Math.max(0, position - 20);
  const to = Math.min(rule.length, position + 20);
  return `${from > 0 ? '…' : ''}${rule.slice(from, position)}⟨here⟩${rule.slice(position, to)}${to < rule.length ? '…' : ''}`;
}
