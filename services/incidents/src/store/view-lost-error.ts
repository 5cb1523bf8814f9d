/**
 * The incident view's Redis no longer holds the generation this process started with (it was wiped): nothing read
 * from it may decide anything. The API says 503; the process exits and the next one rebuilds the view from the log.
 */
export class ViewLostError extends Error {
  override readonly name = 'ViewLostError';
  readonly statusCode = 503;
}
