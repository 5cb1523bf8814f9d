/**
 * A message was not accepted. `retriable` says whether trying again may help (network errors, timeouts, 5xx, 429,
 * vendor rate limits) or not (a bad key, a refused signature, a malformed request). The message never carries a URL:
 * bot URLs hold credentials.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly retriable: boolean,
    /** HTTP status, when an answer came. */
    readonly status?: number,
    /** The vendor's error code from the body, when it gave one. */
    readonly vendorCode?: number,
  ) {
    super(message);
  }
}
