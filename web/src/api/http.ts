import { errorFrom } from './types';

/** One API call over HTTP: POST /api/<method> with the bearer token (same origin). */
export async function httpCall<T>(method: string, params: object, token: string | null, fetchImpl = fetch): Promise<T> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetchImpl(`/api/${method}`, { method: 'POST', headers, body: JSON.stringify(params) });
  let body: { ok?: boolean; result?: T; error?: unknown } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok || body.ok === false) throw errorFrom(body.error ?? { code: 'HTTP_' + res.status, message: res.statusText }, res.status);
  return body.result as T;
}

export function wsUrl(loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/api/ws`;
}
