/** Until API keys arrive every request acts in this one project. */
export const DEFAULT_PROJECT = 'default';
