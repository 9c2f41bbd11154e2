import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { SESSION_KEY, currentToken, loadSession, useSessionStore } from './session';

const hour = 3600_000;
const session = (expiresAt: number) => ({
  token: 'secret-token',
  member_id: 7,
  expires_at: new Date(expiresAt).toISOString(),
});

describe('member session', () => {
  beforeEach(() => {
    localStorage.clear();
    setActivePinia(createPinia());
  });

  it('keeps the token across a reload until it expires', () => {
    const store = useSessionStore();
    store.signIn(session(Date.now() + hour));
    expect(JSON.parse(localStorage.getItem(SESSION_KEY)!).token).toBe('secret-token');
    setActivePinia(createPinia());
    const reloaded = useSessionStore();
    expect(reloaded.isSignedIn()).toBe(true);
    expect(reloaded.memberId).toBe(7);
    expect(currentToken()).toBe('secret-token');
  });

  it('treats an expired token as signed out and forgets it', () => {
    const store = useSessionStore();
    store.signIn(session(Date.now() + hour));
    expect(store.isSignedIn(Date.now() + 2 * hour)).toBe(false);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    expect(currentToken()).toBeNull();
  });

  it('never sends a stored token past its expiry', () => {
    localStorage.setItem(SESSION_KEY, JSON.stringify(session(Date.now() - 1000)));
    expect(loadSession()).toBeNull();
    expect(currentToken()).toBeNull();
    expect(useSessionStore().isSignedIn()).toBe(false);
  });

  it('signs out: the token is gone from memory and storage', () => {
    const store = useSessionStore();
    store.signIn(session(Date.now() + hour));
    store.signOut();
    expect(store.isSignedIn()).toBe(false);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
    expect(currentToken()).toBeNull();
  });

  it('ignores a damaged stored session', () => {
    localStorage.setItem(SESSION_KEY, '{not json');
    expect(loadSession()).toBeNull();
  });
});
