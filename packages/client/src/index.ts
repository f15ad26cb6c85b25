export { runAgent, type RunAgentOptions } from './runner.js';
export type { AgentHandler, RunnerEvent } from './turn.js';
export type { TurnContext, MessageWriter } from './turn-context.js';
export { TetherError, isTetherError, CLIENT_ERROR_CODES, type ClientErrorCode } from './errors.js';
export { HttpClient, Backoff, retrying, sleep, type HttpOptions, type FetchLike, type RequestOptions, type RetryOptions } from './http.js';
export { SseParser, sseFrames, type SseFrame } from './sse.js';
export { followChannel, type ChannelBatch, type FollowOptions } from './channel-reader.js';
export { IdempotentProducer, type ProducerOptions, type AppendResult } from './producer.js';
export {
  messageText,
  type Turn,
  type TurnStatus,
  type TurnOutcome,
  type Lease,
  type Claim,
  type HeartbeatReply,
  type ChannelEvent,
  type UserMessageEvent,
  type InteractionKind,
  type InteractionRequest,
  type UsageRecord,
} from './types.js';
export { createClient, TetherClient, SessionsApi, KeysApi, InteractionsApi, type ClientOptions, type ImportOptions } from './client.js';
export { SessionHandle, SessionInteractions } from './session-handle.js';
export {
  Channel,
  entryOffsets,
  type ChannelEntry,
  type ChannelOptions,
  type SubscribeOptions,
  type ReadOptions,
  type ReadResult,
  type SendResult,
} from './channel.js';
export { watchSessions, type WatchEvent, type WatchOptions } from './session-watch.js';
export { paginate, queryString } from './paging.js';
export type * from './api-types.js';
export type { Session, SessionStatus, SessionUsage, ChannelInfo } from '@tether/protocol';
