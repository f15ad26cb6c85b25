/**
 * The event schema of session channels (DESIGN §5). Every event is a JSON
 * object with a string `type`; known types must carry their required fields.
 * Unknown types (e.g. `custom.*`) are stored as they are. The server adds
 * nothing to an event body: the offset is assigned by the stream.
 */
export type Channel = 'out' | 'in';

type FieldCheck = 'string' | 'number' | 'object' | 'present' | 'boolean';

interface EventRule {
  channel: Channel;
  required: Record<string, FieldCheck>;
  /** At least one of these must be present (e.g. `text` or `content`). */
  oneOf?: string[];
}

const TURN: EventRule = { channel: 'out', required: { turnId: 'string' } };

export const EVENT_RULES: Record<string, EventRule> = {
  'turn.started': TURN,
  'turn.completed': TURN,
  'turn.failed': TURN,
  'turn.interrupted': TURN,
  'turn.cancelled': TURN,
  'message.started': { channel: 'out', required: { messageId: 'string', role: 'string' } },
  'message.delta': { channel: 'out', required: { messageId: 'string', text: 'string' } },
  'message.completed': { channel: 'out', required: { messageId: 'string' } },
  message: { channel: 'out', required: { role: 'string' }, oneOf: ['text', 'content'] },
  'tool.call': { channel: 'out', required: { toolCallId: 'string', name: 'string' } },
  'tool.result': { channel: 'out', required: { toolCallId: 'string' } },
  usage: { channel: 'out', required: { inputTokens: 'number', outputTokens: 'number' } },
  'interaction.requested': {
    channel: 'out',
    required: { interactionId: 'string', kind: 'string', prompt: 'string' },
  },
  'interaction.resolved': { channel: 'out', required: { interactionId: 'string' } },
  'session.spawned': { channel: 'out', required: { childSessionId: 'string' } },
  'user.message': { channel: 'in', required: {}, oneOf: ['text', 'content'] },
  // `status` (expired, cancelled) is how the server tells a runner its question will not be answered.
  'interaction.response': { channel: 'in', required: { interactionId: 'string' }, oneOf: ['response', 'deny', 'status'] },
  'control.interrupt': { channel: 'in', required: {} },
};

export const INTERACTION_KINDS = ['input', 'choice', 'approval', 'form'] as const;

function matches(value: unknown, check: FieldCheck): boolean {
  switch (check) {
    case 'present':
      return value !== undefined;
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0;
    default:
      return typeof value === check;
  }
}

/** Returns why an event is invalid for a channel, or null when it is valid. */
export function validateEvent(channel: Channel, event: unknown): string | null {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'an event must be a JSON object';
  const record = event as Record<string, unknown>;
  if (typeof record.type !== 'string' || record.type === '') return 'an event needs a string `type`';
  const rule = EVENT_RULES[record.type];
  if (!rule) return null;
  if (rule.channel !== channel) return `\`${record.type}\` events belong on the \`${rule.channel}\` channel`;
  for (const [field, check] of Object.entries(rule.required)) {
    if (!matches(record[field], check)) return `\`${record.type}\` needs \`${field}\` (${check})`;
  }
  if (rule.oneOf && !rule.oneOf.some((field) => record[field] !== undefined)) {
    return `\`${record.type}\` needs one of ${rule.oneOf.map((f) => `\`${f}\``).join(', ')}`;
  }
  if (record.type === 'interaction.requested' && !(INTERACTION_KINDS as readonly string[]).includes(record.kind as string)) {
    return `\`kind\` must be one of ${INTERACTION_KINDS.join(', ')}`;
  }
  return null;
}
