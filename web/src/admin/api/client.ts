// The console's one ApiClient: the session is an HttpOnly cookie, and every change carries the
// session's CSRF token (kept in memory only; after a reload the session store asks for it again).
import { ApiClient } from '@/shared/api';

let csrfToken: string | null = null;
let unauthenticated: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onUnauthenticated(handler: () => void): void {
  unauthenticated = handler;
}

export const api = new ApiClient({
  csrfToken: () => csrfToken,
  onUnauthenticated: () => unauthenticated(),
});

export function path(template: string, ...parts: (string | number)[]): string {
  let index = 0;
  return template.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(parts[index++])));
}
