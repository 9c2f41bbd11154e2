// The one HTTP client of both front ends. Every call goes to the same origin's /v1 API.
// Contract: a 2xx answer resolves with its JSON body (undefined for 204); anything else rejects
// with an ApiError carrying the server's problem `type` (docs/api.md), so views branch on names,
// never on wording. Network failures reject with type `network_error`.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
    this.problem = problem;
  }
  get type(): string {
    return this.problem.type;
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  // Calls that change points need one; a retry must send the same key (docs/api.md).
  idempotencyKey?: string;
  // Sent as-is (e.g. text/csv for a coupon pool); objects are sent as JSON.
  rawBody?: { contentType: string; text: string };
}

// How a front end authenticates: the mall sends the member's bearer token, the console relies on
// its session cookie and sends the CSRF token on every change.
export interface Credentials {
  bearerToken?: () => string | null;
  csrfToken?: () => string | null;
  onUnauthenticated?: () => void;
}

export function newIdempotencyKey(prefix = 'web'): string {
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
  return `${prefix}-${random}`.replace(/[^\x21-\x7e]/g, '');
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class ApiClient {
  constructor(private readonly credentials: Credentials = {}) {}

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const method = options.method ?? (options.body === undefined && !options.rawBody ? 'GET' : 'POST');
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | undefined;
    if (options.rawBody) {
      headers['Content-Type'] = options.rawBody.contentType;
      body = options.rawBody.text;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const token = this.credentials.bearerToken?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    const csrf = this.credentials.csrfToken?.();
    if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;

    let response: Response;
    try {
      response = await fetch(buildUrl(path, options.query), {
        method,
        headers,
        body,
        credentials: 'same-origin',
      });
    } catch (cause) {
      throw new ApiError({
        type: 'network_error',
        title: 'The server cannot be reached',
        status: 0,
        detail: String(cause),
      });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!response.ok) {
      const problem = (parsed as Problem | undefined) ?? {
        type: 'http_error',
        title: response.statusText || 'Request failed',
        status: response.status,
      };
      if (response.status === 401) this.credentials.onUnauthenticated?.();
      throw new ApiError({ ...problem, status: response.status });
    }
    return parsed as T;
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>(path, { method: 'GET', query });
  }
  post<T>(path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    return this.request<T>(path, { method: 'POST', body, idempotencyKey });
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PUT', body });
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>(path, { method: 'DELETE' });
  }
}
