/**
 * The emulator's in-memory state: authorization codes, pending authentication tokens (for
 * organization selection), sessions and their single-use refresh tokens.
 *
 * @module
 */
import { randomId, randomSecret } from "./ids.ts";

/** Lifetime of an authorization code and of a pending authentication token, in ms. */
export const CODE_TTL_MS = 10 * 60 * 1000;

/** What an authorization code remembers from the authorize request. */
export interface CodeRecord {
  userId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  organizationId: string | null;
  expiresAt: number;
  used: boolean;
}

/** A pending authentication: the user signed in but must still choose an organization. */
export interface PendingRecord {
  userId: string;
  expiresAt: number;
  used: boolean;
}

/** A sign-in session (`sid` of the access tokens). */
export interface SessionRecord {
  id: string;
  userId: string;
  organizationId: string | null;
  revoked: boolean;
}

interface RefreshRecord {
  sessionId: string;
  used: boolean;
}

/** Why {@linkcode SessionStore.takeCode} or {@linkcode SessionStore.takePending} refused. */
export type TakeFailure = "unknown" | "expired" | "used";

/** The mutable state of one emulator instance. */
export class SessionStore {
  #codes = new Map<string, CodeRecord>();
  #pending = new Map<string, PendingRecord>();
  #sessions = new Map<string, SessionRecord>();
  #refreshTokens = new Map<string, RefreshRecord>();
  #lastSignIn = new Map<string, string>();
  #file: string | undefined;

  /**
   * A store kept only in memory, or, with `file`, whose sessions and refresh tokens are also written to
   * that JSON file and read back on start: a restarted local server (`deno task dev` restarts on every
   * save) keeps its signed-in users, as WorkOS would. Codes and pending tokens live minutes: memory only.
   */
  static async open(file?: string): Promise<SessionStore> {
    const store = new SessionStore();
    if (!file) return store;
    store.#file = file;
    try {
      const saved = JSON.parse(await Deno.readTextFile(file)) as {
        sessions?: SessionRecord[];
        refreshTokens?: Array<[string, RefreshRecord]>;
      };
      for (const session of saved.sessions ?? []) store.#sessions.set(session.id, session);
      for (const [token, record] of saved.refreshTokens ?? []) {
        store.#refreshTokens.set(token, record);
      }
    } catch (err) {
      // A missing or unreadable file starts empty: users sign in again, nothing worse.
      if (!(err instanceof Deno.errors.NotFound) && !(err instanceof SyntaxError)) throw err;
    }
    return store;
  }

  #save(): void {
    if (!this.#file) return;
    // Used refresh tokens are kept (to answer "already exchanged"), up to a bound.
    const tokens = [...this.#refreshTokens];
    const used = tokens.filter(([, r]) => r.used);
    const keep = tokens.filter(([, r]) => !r.used).concat(used.slice(-1000));
    Deno.writeTextFileSync(
      this.#file,
      JSON.stringify({ sessions: [...this.#sessions.values()], refreshTokens: keep }),
      { mode: 0o600 },
    );
  }

  /** Mints a single-use authorization code. */
  issueCode(record: Omit<CodeRecord, "used">): string {
    const code = randomSecret();
    this.#codes.set(code, { ...record, used: false });
    return code;
  }

  /** Consumes `code` (any attempt uses it up); the record, or why it cannot be used. */
  takeCode(code: string, nowMs: number): CodeRecord | TakeFailure {
    return take(this.#codes, code, nowMs);
  }

  /** Mints a pending authentication token for `userId`. */
  issuePending(userId: string, nowMs: number): string {
    const token = randomSecret();
    this.#pending.set(token, { userId, expiresAt: nowMs + CODE_TTL_MS, used: false });
    return token;
  }

  /** Looks up `token` without consuming it; the record, or why it cannot be used. */
  peekPending(token: string, nowMs: number): PendingRecord | TakeFailure {
    const record = this.#pending.get(token);
    if (!record) return "unknown";
    if (record.used) return "used";
    if (record.expiresAt <= nowMs) return "expired";
    return record;
  }

  /** Marks a pending authentication token as used. */
  consumePending(token: string): void {
    const record = this.#pending.get(token);
    if (record) record.used = true;
  }

  /** Starts a session and records the sign-in time. */
  createSession(userId: string, organizationId: string | null, nowMs: number): SessionRecord {
    const session = { id: randomId("session_"), userId, organizationId, revoked: false };
    this.#sessions.set(session.id, session);
    this.#lastSignIn.set(userId, new Date(nowMs).toISOString());
    this.#save();
    return session;
  }

  /** The session with this id, if any. */
  session(id: string): SessionRecord | undefined {
    return this.#sessions.get(id);
  }

  /** Ends a session: its refresh tokens stop working. Unknown ids are ignored. */
  revokeSession(id: string): void {
    const session = this.#sessions.get(id);
    if (session) session.revoked = true;
    this.#save();
  }

  /** Mints a refresh token for `sessionId`. */
  issueRefreshToken(sessionId: string): string {
    const token = randomSecret();
    this.#refreshTokens.set(token, { sessionId, used: false });
    this.#save();
    return token;
  }

  /** The session of an unused refresh token, or why it cannot be used (without consuming it). */
  peekRefreshToken(token: string): SessionRecord | "unknown" | "used" | "revoked" {
    const record = this.#refreshTokens.get(token);
    if (!record) return "unknown";
    if (record.used) return "used";
    const session = this.#sessions.get(record.sessionId);
    if (!session) return "unknown";
    if (session.revoked) return "revoked";
    return session;
  }

  /** Marks a refresh token as exchanged. */
  consumeRefreshToken(token: string): void {
    const record = this.#refreshTokens.get(token);
    if (record) record.used = true;
    this.#save();
  }

  /** When `userId` last signed in (ISO 8601), or `null`. */
  lastSignInAt(userId: string): string | null {
    return this.#lastSignIn.get(userId) ?? null;
  }
}

function take<T extends { expiresAt: number; used: boolean }>(
  map: Map<string, T>,
  key: string,
  nowMs: number,
): T | TakeFailure {
  const record = map.get(key);
  if (!record) return "unknown";
  if (record.used) return "used";
  record.used = true;
  if (record.expiresAt <= nowMs) return "expired";
  return record;
}
