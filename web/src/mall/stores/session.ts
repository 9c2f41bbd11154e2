// The member's session: the bearer token from `POST /v1/auth/member/login`, kept in
// localStorage with its expiry so a reload stays signed in. An expired token counts as signed
// out (the server would answer 401 anyway). Signing out forgets the token even when the server
// cannot be reached.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { MemberSession } from '../api';

export const SESSION_KEY = 'pointsmall.member.session';

export function loadSession(now: number = Date.now()): MemberSession | null {
  const text = globalThis.localStorage?.getItem(SESSION_KEY);
  if (!text) return null;
  try {
    const session = JSON.parse(text) as MemberSession;
    if (!session.token || !(Date.parse(session.expires_at) > now)) return null;
    return session;
  } catch {
    return null;
  }
}

export function saveSession(session: MemberSession | null): void {
  if (session) globalThis.localStorage?.setItem(SESSION_KEY, JSON.stringify(session));
  else globalThis.localStorage?.removeItem(SESSION_KEY);
}

// The token to send now, or null: read on every call so an expiry between calls counts.
export function currentToken(now: number = Date.now()): string | null {
  return loadSession(now)?.token ?? null;
}

export const useSessionStore = defineStore('session', () => {
  const session = ref<MemberSession | null>(loadSession());

  // Re-reads the clock: a token that expired while the page was open is dropped.
  function isSignedIn(now: number = Date.now()): boolean {
    if (session.value && !(Date.parse(session.value.expires_at) > now)) {
      session.value = null;
      saveSession(null);
    }
    return session.value !== null;
  }

  function signIn(next: MemberSession): void {
    session.value = next;
    saveSession(next);
  }

  function signOut(): void {
    session.value = null;
    saveSession(null);
  }

  const memberId = computed(() => session.value?.member_id ?? null);
  return { session, memberId, isSignedIn, signIn, signOut };
});
