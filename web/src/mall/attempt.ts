// One Idempotency-Key per attempt of a points-changing action (docs/api.md): the same request
// sent again after a network error (the answer may have been lost) reuses the key, so the
// server replays its first answer instead of acting twice; a different request, or any request
// after an answer (success or refusal), gets a new key.
import { newIdempotencyKey } from '@/shared/api';
import { problemType } from './errors';

export class Attempt {
  private current: { key: string; request: string } | null = null;

  constructor(private readonly prefix: string) {}

  // The key to send with `request` (compared by its JSON).
  keyFor(request: unknown = {}): string {
    const text = JSON.stringify(request);
    if (!this.current || this.current.request !== text) {
      this.current = { key: newIdempotencyKey(this.prefix), request: text };
    }
    return this.current.key;
  }

  // Call with the outcome: the key is kept only when the server may not have answered.
  settle(error?: unknown): void {
    if (error === undefined || problemType(error) !== 'network_error') this.current = null;
  }
}
