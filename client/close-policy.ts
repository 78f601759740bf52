/**
 * What the SDK does when its WebSocket closes, from the close code (and, where the socket
 * implementation reports it, the HTTP status of a refused handshake).
 */
import { CloseCode, closeMeansReconnect } from "../core/errors.js";

/**
 * - `reconnect`: reconnect with back-off and resume (4500–4999, abnormal closes such as
 *   1006, network errors, anything outside 4000–4499).
 * - `reauth`: the token was refused (4001, or HTTP 401): fetch a new token from the token
 *   callback and reconnect once; stop if that fails the same way.
 * - `stop`: do not reconnect as-is (the rest of 4000–4499, other 4xx handshake refusals).
 */
export type CloseAction = "reconnect" | "reauth" | "stop";

export function closeAction(code: number, httpStatus?: number): CloseAction {
  if (code === CloseCode.badToken || httpStatus === 401) return "reauth";
  if (closeMeansReconnect(code)) return "reconnect";
  if (code >= 4000 && code <= 4499) return "stop";
  if (
    httpStatus !== undefined &&
    httpStatus >= 400 &&
    httpStatus < 500 &&
    httpStatus !== 408 &&
    httpStatus !== 429
  ) {
    return "stop";
  }
  return "reconnect";
}
