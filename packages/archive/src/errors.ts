/**
 * A search query that cannot be run: a rule that does not parse, or a term with no searchable word. The API answers
 * it with 400 and this message; `position` is the 0-based offset in the query where it went wrong.
 */
export class SearchQueryError extends Error {
  override readonly name = 'SearchQueryError';

  constructor(
    /** What is wrong, in words an analyst can act on (the rule parser's message, offset and excerpt included). */
    message: string,
    /** 0-based UTF-16 offset in the query. */
    readonly position: number,
    /** The query as given. */
    readonly query: string,
  ) {
    super(message);
  }
}

/** A filter or paging value the archive cannot use (a bad cursor, a time that does not parse, a limit out of range). */
export class ArchiveInputError extends Error {
  override readonly name = 'ArchiveInputError';

  constructor(
    /** The option at fault (`cursor`, `from`, `limit`, …). */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
