/** The Colink client SDK. */

export { CloseCode, type ErrorBody, type ErrorCode } from "../core/errors.js";
export { type NewMessageFields, newMessage } from "../core/message-rules.js";
export type { ArgsOf, OpName, ResultOf } from "../core/ops.js";
export type { Channel, Member, Message, User } from "../core/types.js";
export { Backoff, type BackoffOptions, backoffCeiling, backoffDelay, defaultBackoff } from "./backoff.js";
export { ChannelCursor, type CursorStep, defaultMaxBuffered } from "./channel-cursor.js";
export { type CloseAction, closeAction } from "./close-policy.js";
export {
  type ChannelHandler,
  ColinkClient,
  type ColinkClientEvents,
  type ColinkClientOptions,
  type ConnectionState,
  newClientMsgId,
  type RequestOptions,
  type SendOptions,
  type SubscribeOptions,
  type SubscribeResult,
  type TokenSource,
} from "./colink-client.js";
export { type EventMap, type Listener, TypedEmitter } from "./emitter.js";
export { ColinkConnectionError, ColinkProtocolError, ColinkRequestError } from "./errors.js";
export { ServerList } from "./server-list.js";
export {
  messageBytes,
  resolveWebSocket,
  type SocketEvents,
  urlWithToken,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./socket.js";
