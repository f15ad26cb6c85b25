/** Maps API key rows of both drivers (snake_case columns, numeric times). */
import type { ApiKeyRecord, KeyRole, ProjectRecord } from './auth-types.js';

export interface ApiKeyRow {
  id: string;
  project_id: string;
  name: string | null;
  role: string;
  prefix: string;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

const num = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function keyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    role: row.role as KeyRole,
    prefix: row.prefix,
    createdAt: Number(row.created_at),
    lastUsedAt: num(row.last_used_at),
    revokedAt: num(row.revoked_at),
  };
}

export function projectFromRow(row: { id: string; name: string | null; created_at: number | string }): ProjectRecord {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
}

export const KEY_COLUMNS = 'id, project_id, name, role, prefix, created_at, last_used_at, revoked_at';
