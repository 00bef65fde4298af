/**
 * Browser sessions for our own pages (`/account`): after signing in through AuthKit, the browser holds a
 * random `__Host-` cookie; KV holds its hash with the user and the WorkOS session, for 8 hours.
 *
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { keys } from "../lib/kv_keys.ts";
import { randomToken, sha256 } from "./crypto.ts";
import type { UpstreamIdentity } from "./grants.ts";

/** The session cookie. */
export const WEB_SESSION_COOKIE = "__Host-mcp-session";
/** Browser sessions last 8 hours. */
export const WEB_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** A signed-in browser. */
export interface WebSession {
  identity: UpstreamIdentity;
  /** The CSRF token of this session's forms. */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

/** Store of browser sessions. */
export class WebSessions {
  #kv: Deno.Kv;
  #now: () => number;

  constructor(kv: Deno.Kv, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
  }

  /** Starts a session for `identity` and sets its cookie. */
  async start(c: Context, identity: UpstreamIdentity): Promise<void> {
    const token = randomToken();
    const now = this.#now();
    const session: WebSession = {
      identity,
      csrf: randomToken(),
      createdAt: now,
      expiresAt: now + WEB_SESSION_TTL_MS,
    };
    await this.#kv.set(keys.webSession(await sha256(token)), session, {
      expireIn: WEB_SESSION_TTL_MS,
    });
    setCookie(c, WEB_SESSION_COOKIE, token, {
      path: "/",
      secure: true,
      httpOnly: true,
      sameSite: "Lax",
      maxAge: WEB_SESSION_TTL_MS / 1000,
    });
  }

  /** This browser's live session, or null. */
  async current(c: Context): Promise<WebSession | null> {
    const token = getCookie(c, WEB_SESSION_COOKIE);
    if (!token || token.length > 100) return null;
    const session = (await this.#kv.get<WebSession>(keys.webSession(await sha256(token)))).value;
    return session && session.expiresAt > this.#now() ? session : null;
  }

  /** Ends this browser's session. */
  async end(c: Context): Promise<void> {
    const token = getCookie(c, WEB_SESSION_COOKIE);
    if (token && token.length <= 100) await this.#kv.delete(keys.webSession(await sha256(token)));
    deleteCookie(c, WEB_SESSION_COOKIE, { path: "/", secure: true });
  }
}
