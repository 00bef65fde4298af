/**
 * Consent: the per-browser record of approved clients, the CSRF token of the consent form, and the
 * server-side copy of the authorization request awaiting consent. The approval cookie is a signed
 * `__Host-` cookie bound to client ids and redirect URIs together (https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices
 * §Confused Deputy Problem): approving a client for its loopback callback does not approve the same client sending
 * the user to another of its registered redirect URIs.
 *
 * On `http://localhost` the cookies still carry `Secure`: browsers treat localhost as a secure context
 * and accept them, and a `__Host-` cookie without `Secure` would be rejected outright.
 *
 * @module
 */
import type { Context } from "hono";
import { getCookie, getSignedCookie, setCookie, setSignedCookie } from "hono/cookie";
import { keys } from "../lib/kv_keys.ts";
import { loopbackWithoutPort } from "./redirect_uri.ts";
import type { AuthorizationRequest } from "./authorize.ts";
import { randomToken, sha256, timingSafeEqual } from "./crypto.ts";

/** Remembered approvals: hashes of (client id, redirect URI), most recent first. */
export const CONSENT_COOKIE = "__Host-mcp-consent";
/** The consent form's CSRF token (double submit, also bound to the stored request). */
export const CSRF_COOKIE = "__Host-mcp-csrf";
/** A consent request lives 10 minutes. */
export const CONSENT_REQUEST_TTL_MS = 10 * 60 * 1000;
const CONSENT_MAX_AGE_S = 90 * 24 * 60 * 60;
const MAX_REMEMBERED = 20;

const COOKIE = { path: "/", secure: true, httpOnly: true, sameSite: "Lax" } as const;

/**
 * One approval as stored in the cookie: a hash of the pair, so the cookie stays small (redirect URIs
 * may be 2,000 characters) and names neither. A loopback redirect URI counts without its port: native
 * clients listen on a new port each time (RFC 8252 §7.3), and it is the same application on the device.
 */
async function approvalId(clientId: string, redirectUri: string): Promise<string> {
  const uri = loopbackWithoutPort(redirectUri) ?? redirectUri;
  return (await sha256(`${clientId}\n${uri}`)).slice(0, 22);
}

/** What a browser form carries server-side between rendering and posting. */
export type FormPayload =
  | { kind: "consent"; request: AuthorizationRequest }
  | {
    kind: "organization";
    /** Null when the user is signing in to our own account page. */
    request: AuthorizationRequest | null;
    pendingAuthenticationToken: string;
    organizations: Array<{ id: string; name: string }>;
  };

interface FormRecord {
  payload: FormPayload;
  csrfHash: string;
  expiresAt: number;
}

/** Consent state: cookies and pending consent requests. */
export class Consent {
  #kv: Deno.Kv;
  #secrets: readonly string[];
  #now: () => number;

  /** `cookieSecrets`: the current secret first (signs), then earlier ones (still verify). */
  constructor(kv: Deno.Kv, cookieSecrets: readonly string[], now: () => number = Date.now) {
    this.#kv = kv;
    this.#secrets = cookieSecrets;
    this.#now = now;
  }

  /** Whether this browser already approved `clientId` sending it back to `redirectUri`. */
  async isApproved(c: Context, clientId: string, redirectUri: string): Promise<boolean> {
    return (await this.#approved(c)).includes(await approvalId(clientId, redirectUri));
  }

  /** Remembers in this browser that `clientId` was approved for `redirectUri`. */
  async remember(c: Context, clientId: string, redirectUri: string): Promise<void> {
    const id = await approvalId(clientId, redirectUri);
    const list = [id, ...(await this.#approved(c)).filter((x) => x !== id)]
      .slice(0, MAX_REMEMBERED);
    await setSignedCookie(c, CONSENT_COOKIE, JSON.stringify(list), this.#secrets[0]!, {
      ...COOKIE,
      maxAge: CONSENT_MAX_AGE_S,
    });
  }

  async #approved(c: Context): Promise<string[]> {
    let raw: string | false | undefined;
    for (const secret of this.#secrets) {
      raw = await getSignedCookie(c, secret, CONSENT_COOKIE);
      if (raw) break;
    }
    if (!raw) return [];
    try {
      const list = JSON.parse(raw);
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
    } catch {
      return [];
    }
  }

  /**
   * Stores `request` until the user answers the consent page; returns the request id and the CSRF token
   * to embed in the form (the token is also set as a cookie, reusing this browser's existing one).
   */
  async begin(
    c: Context,
    request: AuthorizationRequest,
  ): Promise<{ requestId: string; csrf: string }> {
    const { id, csrf } = await this.beginForm(c, { kind: "consent", request });
    return { requestId: id, csrf };
  }

  /**
   * Consumes the consent request named by the form, once, after checking the CSRF token against both the
   * cookie and the stored request. Returns null when anything does not match.
   */
  async consume(c: Context, requestId: string, csrf: string): Promise<AuthorizationRequest | null> {
    const payload = await this.consumeForm(c, requestId, csrf);
    return payload?.kind === "consent" ? payload.request : null;
  }

  /**
   * Stores `payload` server-side for a form this browser will post back (consent, organization choice);
   * returns its id and the CSRF token to embed, which is also this browser's CSRF cookie.
   */
  async beginForm(c: Context, payload: FormPayload): Promise<{ id: string; csrf: string }> {
    const existing = getCookie(c, CSRF_COOKIE);
    const csrf = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken();
    setCookie(c, CSRF_COOKIE, csrf, { ...COOKIE, maxAge: CONSENT_REQUEST_TTL_MS / 1000 });
    const id = randomToken(16);
    const record: FormRecord = {
      payload,
      csrfHash: await sha256(csrf),
      expiresAt: this.#now() + CONSENT_REQUEST_TTL_MS,
    };
    await this.#kv.set(keys.consentRequest(id), record, { expireIn: CONSENT_REQUEST_TTL_MS });
    return { id, csrf };
  }

  /** Consumes a stored form payload once, if the CSRF token matches the cookie and the record. */
  async consumeForm(c: Context, id: string, csrf: string): Promise<FormPayload | null> {
    const cookie = getCookie(c, CSRF_COOKIE);
    if (!cookie || !csrf || !timingSafeEqual(cookie, csrf) || id.length > 64) return null;
    const key = keys.consentRequest(id);
    const entry = await this.#kv.get<FormRecord>(key);
    const record = entry.value;
    if (!record || record.expiresAt <= this.#now()) return null;
    if (!timingSafeEqual(await sha256(csrf), record.csrfHash)) return null;
    const res = await this.#kv.atomic().check(entry).delete(key).commit();
    return res.ok ? record.payload : null;
  }
}
