/**
 * The project every request acted in before API keys, and the one the first
 * admin key belongs to: its admin keys are the server operator's, the only
 * keys that may create other projects. Existing data lives here.
 */
export const DEFAULT_PROJECT = 'default';

/** Project ids appear in stream keys, so they are kept to a plain alphabet. */
export const PROJECT_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';
