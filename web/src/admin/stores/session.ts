// The signed-in operator. The session cookie is HttpOnly, so the store learns who is signed in
// from the login answer or, after a reload, from GET /v1/auth/operator/session; the CSRF token of
// either answer is handed to the API client and never stored elsewhere.
import { defineStore } from 'pinia';
import { ApiError } from '@/shared/api';
import * as auth from '../api/auth';
import { setCsrfToken } from '../api/client';
import type { OperatorRole, OperatorSession } from '../api/types';
import { allows, type Permission } from '../lib/permissions';

// Set while this browser holds a session, so a fresh visit does not ask the server (a 401 there
// would be noise on the console); the cookie itself stays HttpOnly.
const HINT_KEY = 'pointsmall.console.session';

export const useSessionStore = defineStore('session', {
  state: () => ({
    operator: null as OperatorSession['operator'] | null,
    expiresAt: null as string | null,
    checked: false,
  }),
  getters: {
    signedIn: (state) => state.operator !== null,
    role: (state): OperatorRole | null => state.operator?.role ?? null,
  },
  actions: {
    adopt(session: OperatorSession | null) {
      this.operator = session?.operator ?? null;
      this.expiresAt = session?.expires_at ?? null;
      setCsrfToken(session?.csrf_token ?? null);
      if (session) globalThis.localStorage?.setItem(HINT_KEY, '1');
      else globalThis.localStorage?.removeItem(HINT_KEY);
      this.checked = true;
    },
    async login(name: string, password: string, totpCode: string) {
      this.adopt(await auth.login(name, password, totpCode));
    },
    // Asks the server once whether the cookie still holds a session.
    async restore() {
      if (this.checked) return;
      if (!globalThis.localStorage?.getItem(HINT_KEY)) {
        this.adopt(null);
        return;
      }
      try {
        this.adopt(await auth.currentSession());
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          this.adopt(null);
          return;
        }
        throw error;
      }
    },
    async logout() {
      try {
        await auth.logout();
      } finally {
        this.adopt(null);
      }
    },
    forget() {
      this.adopt(null);
    },
    can(permission: Permission): boolean {
      return this.role !== null && allows(this.role, permission);
    },
  },
});
