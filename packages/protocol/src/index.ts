export { formatOffset, parseOffset, START_OFFSET_SENTINEL, NOW_OFFSET_SENTINEL } from './offsets.js';
export { Header, EXPOSED_HEADERS, ALLOWED_REQUEST_HEADERS } from './headers.js';
export { ERROR_CODES, statusOf, type ErrorCode, type ErrorBody } from './errors.js';
export { validateEvent, EVENT_RULES, INTERACTION_KINDS, type Channel } from './events.js';
export {
  SESSION_STATUSES,
  SESSION_ID_PREFIX,
  MAX_TAGS,
  MAX_METADATA_BYTES,
  sessionChannelPath,
  type Session,
  type SessionStatus,
  type SessionUsage,
  type ChannelInfo,
  type CreateSessionInput,
} from './sessions.js';
export {
  MAX_TOOL_OUTPUT_BYTES,
  type Message,
  type MessageStatus,
  type ToolCall,
  type TurnUsage,
  type SearchHit,
  type SessionUsageReport,
  type SessionContext,
} from './transcripts.js';
