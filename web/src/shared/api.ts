// The server's REST API, same origin: a session (access token, refreshed with the
// refresh token when it expires) and typed GETs/POSTs. A failed request throws an
// `ApiError` with the status (0 when the server could not be reached).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's problem body (`detail`, `field`, `allowed`), when it sent one. */
    readonly problem: Problem | null = null,
  ) {
    super(message);
  }

  /** What to tell the user: the server's `detail` (and the field it names), else the message. */
  get detail(): string {
    if (!this.problem?.detail) return this.message;
    const { detail, field } = this.problem;
    return field && !detail.includes(field) ? `${detail} (${field})` : detail;
  }
}

/** What a login says beyond the tokens: the session is restricted until the password is
 *  changed, or until a second factor the role requires is enrolled. */
export interface LoginAnswer {
  must_change_password: boolean;
  enrolment_only: boolean;
}

/** A JSON problem (RFC 9457) as the server answers a refused request. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  field?: string;
  allowed?: string[];
}

async function problemOf(response: Response): Promise<Problem | null> {
  try {
    const body = (await response.json()) as unknown;
    return typeof body === 'object' && body !== null ? (body as Problem) : null;
  } catch {
    return null;
  }
}

interface Tokens {
  access_token: string;
  refresh_token: string;
}

const STORAGE = 'cockpit.wall.session';

/** Where a front end keeps its session: the wall keeps it for the tab (sessionStorage);
 *  the mobile app keeps it across restarts of the phone's browser (localStorage). */
export interface SessionStore {
  storage?: Storage;
  key?: string;
}

export class Api {
  private tokens: Tokens | null;
  private refreshing: Promise<boolean> | null = null;
  /** When the access token was issued (access tokens live ten minutes by default). */
  private issuedAt = Date.now();
  private readonly storage: Storage;
  private readonly storageKey: string;

  constructor(session: SessionStore = {}) {
    this.storage = session.storage ?? sessionStorage;
    this.storageKey = session.key ?? STORAGE;
    const saved = this.storage.getItem(this.storageKey);
    this.tokens = saved ? (JSON.parse(saved) as Tokens) : null;
    // A token kept from before a reload may be of any age: renew it at the first need.
    if (this.tokens) this.issuedAt = 0;
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  /** The current access token (the live stream authenticates with it). */
  get accessToken(): string | null {
    return this.tokens?.access_token ?? null;
  }

  /** Logs in; `totp` when the account has a second factor (a 401 problem with
   *  `field: "totp"` says the server wants one). */
  async login(username: string, password: string, totp?: string): Promise<LoginAnswer> {
    const response = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(totp ? { username, password, totp } : { username, password }),
    });
    if (!response.ok) {
      const problem = await problemOf(response);
      throw new ApiError(response.status, problem?.detail ?? `login: ${response.status}`, problem);
    }
    const answer = (await response.json()) as Tokens & LoginAnswer;
    this.keep(answer);
    return { must_change_password: !!answer.must_change_password, enrolment_only: !!answer.enrolment_only };
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('POST', path, body, false, headers);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** A raw body (an attachment) sent with its content type; the JSON answer. */
  upload<T>(path: string, data: Blob, contentType: string, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('POST', path, data, false, { ...headers, 'Content-Type': contentType });
  }

  /** A download (attachment, export) with the session's token: the body as a Blob and the
   *  file name from Content-Disposition. */
  async blob(path: string, retried = false): Promise<{ blob: Blob; fileName: string | null }> {
    const headers: Record<string, string> = {};
    if (this.tokens) headers.Authorization = `Bearer ${this.tokens.access_token}`;
    let response: Response;
    try {
      response = await fetch(path, { headers });
    } catch {
      throw new ApiError(0, `server unreachable: GET ${path}`);
    }
    if (response.status === 401 && !retried && (await this.refresh())) return this.blob(path, true);
    if (!response.ok) throw new ApiError(response.status, `GET ${path}: ${response.status}`, await problemOf(response));
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? null;
    return { blob: await response.blob(), fileName: name };
  }

  /** An access token at most five minutes old, for the live stream's connections (its
   *  token is checked once, at the upgrade). */
  async freshToken(): Promise<string | null> {
    if (this.tokens && Date.now() - this.issuedAt > 5 * 60_000) {
      try {
        await this.refresh();
      } catch {
        // The server is unreachable: the connection attempt will fail and be retried.
      }
    }
    return this.accessToken;
  }

  /** Refreshes the session once for any number of callers; false when it has ended. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    if (!this.tokens) return false;
    let response: Response;
    try {
      response = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: this.tokens.refresh_token }),
      });
    } catch {
      throw new ApiError(0, 'server unreachable');
    }
    if (response.status === 401 || response.status === 400) {
      this.keep(null);
      return false;
    }
    if (!response.ok) throw new ApiError(response.status, 'refresh failed');
    this.keep((await response.json()) as Tokens);
    return true;
  }

  private keep(tokens: Tokens | null): void {
    this.tokens = tokens;
    this.issuedAt = Date.now();
    if (tokens) this.storage.setItem(this.storageKey, JSON.stringify(tokens));
    else this.storage.removeItem(this.storageKey);
  }

  /** Forgets the session here (the server's session ends when its tokens expire). */
  forget(): void {
    this.keep(null);
  }

  /** A request with the session's token, renewed once on a 401; the raw response, for
   *  callers that read its status, headers or problem body themselves. Throws
   *  `ApiError(0)` when the server could not be reached. */
  async send(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.tokens) headers.set('Authorization', `Bearer ${this.tokens.access_token}`);
    let response: Response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch {
      throw new ApiError(0, `server unreachable: ${init.method ?? 'GET'} ${path}`);
    }
    if (response.status === 401 && !retried && (await this.refresh())) return this.send(path, init, true);
    return response;
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    retried = false,
    extra?: Record<string, string>,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.tokens) headers.Authorization = `Bearer ${this.tokens.access_token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    Object.assign(headers, extra);
    const payload = body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body);
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch {
      throw new ApiError(0, `server unreachable: ${method} ${path}`);
    }
    if (response.status === 401 && !retried && (await this.refresh())) {
      return this.request<T>(method, path, body, true, extra);
    }
    if (!response.ok) {
      throw new ApiError(response.status, `${method} ${path}: ${response.status}`, await problemOf(response));
    }
    return (await response.json()) as T;
  }
}
