/** The archive (PostgreSQL) cannot answer now: the API says 503 and the rest of the service goes on. */
export class ArchiveUnavailableError extends Error {
  override readonly name = 'ArchiveUnavailableError';
  readonly statusCode = 503;
}
