/**
 * Pending upstream authorizations: what we remember between sending the browser to AuthKit and its return
 * to `/callback`. Keyed by the hash of our upstream `state`, single-use, 10 minutes. The same browser also
 * holds the state in a `__Host-` cookie, set just before the redirect and checked at the callback, so a
 * state from another browser's flow is refused.
 *
 * @see https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices §Confused Deputy Problem
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { keys } from "../lib/kv_keys.ts";
import type { AuthorizationRequest } from "./authorize.ts";
import { randomToken, sha256 } from "./crypto.ts";
import { createPkcePair } from "./pkce.ts";

/** Pending authorizations live 10 minutes. */
export const PENDING_TTL_MS = 10 * 60 * 1000;
/** The browser's recent upstream states, space-separated (a few flows may run at once). */
export const STATE_COOKIE = "__Host-mcp-state";
const MAX_STATES = 4;

/** What is remembered while the user is at AuthKit. */
export interface PendingAuthorization {
  /** The client's authorization request, or null when the user is signing in to our own account page. */
  request: AuthorizationRequest | null;
  /** Our PKCE verifier for the AuthKit code. */
  upstreamVerifier: string;
  expiresAt: number;
}

/** Store of pending authorizations. */
export class PendingStore {
  #kv: Deno.Kv;
  #now: () => number;

  constructor(kv: Deno.Kv, now: () => number = Date.now) {
    this.#kv = kv;
    this.#now = now;
  }

  /** Records a pending authorization; resolves to our upstream state and PKCE challenge. */
  async create(
    request: AuthorizationRequest | null,
  ): Promise<{ state: string; codeChallenge: string }> {
    const state = randomToken();
    const { verifier, challenge } = await createPkcePair();
    const record: PendingAuthorization = {
      request,
      upstreamVerifier: verifier,
      expiresAt: this.#now() + PENDING_TTL_MS,
    };
    await this.#kv.set(keys.pending(await sha256(state)), record, { expireIn: PENDING_TTL_MS });
    return { state, codeChallenge: challenge };
  }

  /** Consumes the pending authorization for `state`, once. Null when unknown, used or expired. */
  async consume(state: string): Promise<PendingAuthorization | null> {
    if (!state || state.length > 100) return null;
    const key = keys.pending(await sha256(state));
    const entry = await this.#kv.get<PendingAuthorization>(key);
    if (!entry.value) return null;
    const res = await this.#kv.atomic().check(entry).delete(key).commit();
    if (!res.ok || entry.value.expiresAt <= this.#now()) return null;
    return entry.value;
  }
}

/** Adds `state` to this browser's state cookie. */
export function rememberState(c: Context, state: string): void {
  const states = [state, ...browserStates(c)].slice(0, MAX_STATES);
  setCookie(c, STATE_COOKIE, states.join(" "), {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: PENDING_TTL_MS / 1000,
  });
}

/** Whether this browser started the flow for `state`. */
export function browserStarted(c: Context, state: string): boolean {
  return browserStates(c).includes(state);
}

function browserStates(c: Context): string[] {
  return (getCookie(c, STATE_COOKIE) ?? "").split(" ").filter(Boolean);
}
