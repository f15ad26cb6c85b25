/**
 * Stream offsets are opaque to clients. Tether mints them as two fixed-width
 * decimal fields, `EEEEEEEEEEEEEEEE_PPPPPPPPPPPPPPPP`: an epoch (reserved, always
 * zero today) and a position. The position counts bytes for byte streams and
 * messages for JSON streams, so offsets sort lexicographically, are unique per
 * position, and a fork shares its source's offset space without translation.
 */
const FIELD_WIDTH = 16;
const OFFSET_PATTERN = /^(\d{16})_(\d{16})$/;

export const START_OFFSET_SENTINEL = '-1';
export const NOW_OFFSET_SENTINEL = 'now';

export function formatOffset(position: number): string {
  return `${'0'.repeat(FIELD_WIDTH)}_${String(position).padStart(FIELD_WIDTH, '0')}`;
}

/** Returns the position an offset names, or null when it is not one of ours. */
export function parseOffset(offset: string): number | null {
  const match = OFFSET_PATTERN.exec(offset);
  if (!match) return null;
  if (match[1] !== '0'.repeat(FIELD_WIDTH)) return null;
  const position = Number(match[2]);
  return Number.isSafeInteger(position) ? position : null;
}
