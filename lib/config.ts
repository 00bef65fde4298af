/**
 * Configuration, read once from the environment and validated with zod. A bad or missing value stops the
 * server with a message that names the variable and says how to fix it.
 *
 * @module
 */
import { z } from "zod";
import { isLoopbackHost } from "./loopback.ts";

/** Validated configuration. URLs carry no trailing slash. */
export interface Config {
  /** `emulator` when no WORKOS_CLIENT_ID is set: the built-in AuthKit emulator is mounted on our origin. */
  readonly mode: "workos" | "emulator";
  /** External origin, e.g. `https://mcp.example.com`; our OAuth issuer. */
  readonly publicUrl: string;
  readonly port: number;
  /** Interface to bind. */
  readonly hostname: string;
  /**
   * What `Deno.openKv()` opens: a local file, a KV Connect URL (DENO_KV_URL, shared by several
   * machines), or undefined on Deno Deploy (the attached database).
   */
  readonly kvPath: string | undefined;
  readonly workos: {
    readonly clientId: string;
    readonly apiKey: string;
    readonly apiHostname: string;
    readonly apiPort: number | undefined;
    readonly apiHttps: boolean;
    /** Accepted `iss` values of WorkOS access tokens. */
    readonly issuers: readonly string[];
    /** How long one WorkOS call may take before it counts as an outage (WORKOS_TIMEOUT_MS, 5000). */
    readonly timeoutMs: number;
  };
  /**
   * How long a rotated refresh token stays usable by its client while neither of its successors has been
   * used (REFRESH_GRACE_SECONDS, default 120): covers lost responses and concurrent refreshes.
   */
  readonly refreshGraceSeconds: number;
  /** Secret material from which cookie and encryption keys are derived. */
  readonly cookieEncryptionKey: string;
  /** Earlier keys (COOKIE_ENCRYPTION_KEY_PREVIOUS), still accepted to open sealed values and cookies. */
  readonly previousCookieEncryptionKeys: readonly string[];
  /** True when COOKIE_ENCRYPTION_KEY was not set and a per-process key was generated (emulator mode only). */
  readonly ephemeralKey: boolean;
  /** Demo users file for the emulator, when AUTHKIT_EMULATOR_USERS is set. */
  readonly emulatorUsersFile: string | undefined;
  /** Whether we run on Deno Deploy. */
  readonly onDeploy: boolean;
  /** DENO_DEPLOYMENT_ID on Deno Deploy (shown by `/healthz`). */
  readonly deploymentId: string | undefined;
  /** Bound on the age of a grant's permissions before WorkOS is asked again (default 300). */
  readonly permissionsMaxAgeSeconds: number;
  /** Audit trail retention in days (AUDIT_RETENTION_DAYS, default 30). */
  readonly auditRetentionDays: number;
  /** Whether to send audit events to WorkOS Audit Logs too (WORKOS_AUDIT_LOGS=true). */
  readonly workosAuditLogs: boolean;
  /** MCP transport settings. */
  readonly mcp: {
    /** Idle MCP sessions close after this many seconds (SESSION_IDLE_SECONDS, default 1800). */
    readonly sessionIdleSeconds: number;
    /** Origins allowed besides PUBLIC_URL's (ALLOWED_ORIGINS, comma-separated). */
    readonly allowedOrigins: readonly string[];
    /** How often an instance holding streams polls its KV doorbell and the bus (KV_POLL_MS, 100). */
    readonly pollMs: number;
    /** Whether plain tool calls skip the per-request SDK server (MCP_FAST_PATH, default on). */
    readonly fastPath: boolean;
  };
  /** Per-address limits and how the address is found. */
  readonly limits: {
    /** Registrations per address per hour (REGISTER_RATE_LIMIT, default 30; 0 turns it off). */
    readonly registerPerHour: number;
    /** Authorizations started per address per hour (AUTHORIZE_RATE_LIMIT, default 120; 0: off). */
    readonly authorizePerHour: number;
    /** Header a trusted reverse proxy sets to the client's address (TRUSTED_PROXY_HEADER), if any. */
    readonly trustedProxyHeader: string | undefined;
    /** Open streams one grant may hold on one instance (MAX_STREAMS_PER_GRANT, default 20). */
    readonly maxStreamsPerGrant: number;
    /** Live 2025 sessions one grant may hold (MAX_SESSIONS_PER_GRANT, default 50). */
    readonly maxSessionsPerGrant: number;
  };
  /**
   * CIMD_ALLOW_LOOPBACK=true (development only): client ID metadata documents may be fetched over http
   * and from loopback addresses, so a local document server can be used. Refused on Deno Deploy.
   */
  readonly cimdAllowLoopback: boolean;
  /** Cloudflare Workers AI credentials for `generateImage`; unset means the local placeholder. */
  readonly cloudflare: {
    readonly accountId: string | undefined;
    readonly apiToken: string | undefined;
    readonly apiBaseUrl: string | undefined;
  };
  /** How every page and the MCP `serverInfo` name this server (SERVER_NAME, SERVER_LOGO_URL, SERVER_ACCENT_COLOR). */
  readonly brand: {
    readonly name: string;
    readonly logoUrl: string | undefined;
    /** `#rrggbb`, the background of primary buttons. */
    readonly accentColor: string;
  };
  /** Problems worth a warning at startup that do not stop the server. */
  readonly warnings: readonly string[];
}

/** One configuration problem: the variable at fault and what to do. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/**
 * Raised for a bad configuration; lists every problem found (not just the first), each naming the
 * variable and the fix.
 */
export class ConfigError extends Error {
  /** The first variable at fault. */
  readonly variable: string;
  /** Every problem, in the order found. */
  readonly problems: readonly ConfigProblem[];
  constructor(variable: string, message: string, more: readonly ConfigProblem[] = []) {
    const problems = [{ variable, message }, ...more];
    super(
      problems.length === 1
        ? `Invalid configuration: ${variable}: ${message}`
        : `Invalid configuration (${problems.length} problems):\n` +
          problems.map((p) => `  - ${p.variable}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
    this.variable = variable;
    this.problems = problems;
  }

  /** One error for all of `problems` (at least one). */
  static of(problems: readonly ConfigProblem[]): ConfigError {
    const [first, ...rest] = problems;
    if (!first) throw new RangeError("Cannot build a ConfigError: no problems");
    return new ConfigError(first.variable, first.message, rest);
  }
}

const EMULATOR_CLIENT_ID = "client_emulator";
const EMULATOR_API_KEY = "sk_emulator";

const optional = z.string().trim().transform((v) => (v === "" ? undefined : v)).optional();

const portNumber = optional.refine(
  (v) => v === undefined || /^[0-9]{1,5}$/.test(v) && Number(v) <= 65535,
  {
    message: "must be a port number between 0 (any free port) and 65535",
  },
).transform((v) => (v === undefined ? undefined : Number(v)));

const schema = z.object({
  WORKOS_CLIENT_ID: optional,
  WORKOS_API_KEY: optional,
  WORKOS_CLIENT_SECRET: optional,
  COOKIE_ENCRYPTION_KEY: optional.refine((v) => v === undefined || v.length >= 32, {
    message: "must be at least 32 characters; generate one with `openssl rand -hex 32`",
  }),
  COOKIE_ENCRYPTION_KEY_PREVIOUS: optional.refine(
    (v) => v === undefined || v.split(",").map((k) => k.trim()).every((k) => k.length >= 32),
    {
      message:
        "must be a comma-separated list of earlier COOKIE_ENCRYPTION_KEY values, each at least 32 characters",
    },
  ),
  WORKOS_TIMEOUT_MS: optional.refine(
    (v) => v === undefined || /^[0-9]{1,6}$/.test(v) && Number(v) >= 100,
    { message: "must be a whole number of milliseconds, at least 100, e.g. 5000" },
  ),
  REFRESH_GRACE_SECONDS: optional.refine(
    (v) => v === undefined || /^[0-9]{1,5}$/.test(v) && Number(v) <= 3600,
    { message: "must be a whole number of seconds between 0 and 3600, e.g. 120" },
  ),
  PUBLIC_URL: optional.refine((v) => v === undefined || isOrigin(v), {
    message: "must be an http(s) origin without a path, e.g. https://mcp.example.com",
  }),
  PORT: portNumber,
  HOSTNAME: optional,
  KV_PATH: optional,
  DENO_KV_URL: optional.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
    message:
      "must be a KV Connect URL, e.g. https://api.deno.com/databases/<id>/connect (or a self-hosted denokv http://host:4512)",
  }),
  DENO_KV_ACCESS_TOKEN: optional,
  KV_POLL_MS: optional.refine((v) => v === undefined || /^[0-9]{1,5}$/.test(v) && Number(v) >= 10, {
    message: "must be a whole number of milliseconds, at least 10, e.g. 100",
  }),
  WORKOS_API_HOSTNAME: optional.refine((v) => v === undefined || /^[a-z0-9.-]+$/i.test(v), {
    message: "must be a bare host name such as api.workos.com (no scheme, no port)",
  }),
  WORKOS_API_PORT: portNumber,
  WORKOS_API_HTTPS: optional.refine((v) => v === undefined || v === "true" || v === "false", {
    message: 'must be "true" or "false"',
  }),
  WORKOS_ISSUER: optional,
  AUTHKIT_EMULATOR_USERS: optional,
  DENO_DEPLOYMENT_ID: optional,
  AUDIT_RETENTION_DAYS: optional.refine(
    (v) => v === undefined || /^[0-9]{1,4}$/.test(v) && Number(v) >= 1,
    {
      message: "must be a whole number of days, at least 1, e.g. 30",
    },
  ),
  WORKOS_AUDIT_LOGS: optional.refine((v) => v === undefined || v === "true" || v === "false", {
    message: 'must be "true" or "false"',
  }),
  PERMISSIONS_MAX_AGE_SECONDS: optional.refine(
    (v) => v === undefined || /^[0-9]{1,7}$/.test(v) && Number(v) >= 10,
    {
      message: "must be a whole number of seconds, at least 10, e.g. 300",
    },
  ),
  SESSION_IDLE_SECONDS: optional.refine(
    (v) => v === undefined || /^[0-9]{1,7}$/.test(v) && Number(v) > 0,
    {
      message: "must be a whole number of seconds greater than 0, e.g. 1800",
    },
  ),
  ALLOWED_ORIGINS: optional.refine(
    (v) => v === undefined || v.split(",").map((o) => o.trim()).filter(Boolean).every(isOrigin),
    {
      message:
        "must be a comma-separated list of origins without paths, e.g. https://app.example.com",
    },
  ),
  TRUSTED_PROXY_HEADER: optional.refine((v) => v === undefined || /^[A-Za-z0-9-]+$/.test(v), {
    message: "must be one header name, e.g. x-forwarded-for or cf-connecting-ip",
  }),
  REGISTER_RATE_LIMIT: wholeNumber("registrations per address per hour", "30"),
  AUTHORIZE_RATE_LIMIT: wholeNumber("authorizations per address per hour", "120"),
  MAX_STREAMS_PER_GRANT: wholeNumber("open streams per grant", "20", 1),
  MAX_SESSIONS_PER_GRANT: wholeNumber("live sessions per grant", "50", 1),
  CIMD_ALLOW_LOOPBACK: optional.refine((v) => v === undefined || v === "true" || v === "false", {
    message: 'must be "true" or "false"',
  }),
  MCP_FAST_PATH: optional.refine((v) => v === undefined || v === "on" || v === "off", {
    message: 'must be "on" or "off"',
  }),
  CLOUDFLARE_ACCOUNT_ID: optional,
  CLOUDFLARE_API_TOKEN: optional,
  SERVER_NAME: optional.refine((v) => v === undefined || v.length <= 60, {
    message: "must be at most 60 characters, e.g. Acme tools",
  }),
  SERVER_LOGO_URL: optional.refine((v) => v === undefined || /^https:\/\/[^\s"'<>]+$/.test(v), {
    message: "must be an https:// URL of an image, e.g. https://example.com/logo.svg",
  }),
  SERVER_ACCENT_COLOR: optional.refine((v) => v === undefined || /^#[0-9a-f]{6}$/i.test(v), {
    message: "must be a color in #rrggbb form, e.g. #4f46e5",
  }),
  CLOUDFLARE_API_BASE_URL: optional.refine(
    (v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v),
    {
      message: "must be an http(s) URL, e.g. https://api.cloudflare.com/client/v4",
    },
  ),
});

function wholeNumber(what: string, example: string, min = 0) {
  return optional.refine((v) => v === undefined || /^[0-9]{1,7}$/.test(v) && Number(v) >= min, {
    message: `must be a whole number of ${what}${
      min > 0 ? `, at least ${min}` : " (0 turns it off)"
    }, e.g. ${example}`,
  });
}
/**
 * Every variable the configuration reads, from the schema itself (so `.env.example` and the README
 * can be checked against it).
 */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(schema.shape));

/** The server name when SERVER_NAME is not set. */
export const DEFAULT_SERVER_NAME = "MCP server";
/** The accent color when SERVER_ACCENT_COLOR is not set. */
export const DEFAULT_ACCENT_COLOR = "#4f46e5";

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") &&
      (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash &&
      !value.endsWith("/");
  } catch {
    return false;
  }
}

/**
 * The `iss` forms WorkOS issues for an API base URL.
 *
 * @see https://workos.com/docs/reference/authkit/session-tokens/access-token
 */
export function defaultIssuers(apiBase: string, clientId: string): string[] {
  return [apiBase, `${apiBase}/user_management/${clientId}`];
}

/**
 * Reads the configuration from `env`.
 *
 * @param env Variables, e.g. `Deno.env.toObject()`.
 * @throws {ConfigError} naming the variable and the fix.
 * @example
 * ```ts
 * const config = loadConfig({ PORT: "8788" }); // emulator mode
 * ```
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    // Every malformed value at once, one problem per variable.
    const seen = new Set<string>();
    const problems = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0]),
      message: issue.message,
    })).filter((p) => !seen.has(p.variable) && seen.add(p.variable));
    throw ConfigError.of(problems);
  }
  const e = parsed.data;
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });
  const warnings: string[] = [];
  const onDeploy = e.DENO_DEPLOYMENT_ID !== undefined;
  const mode = e.WORKOS_CLIENT_ID ? "workos" : "emulator";
  const port = e.PORT ?? 8788;
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${port}`;

  if (mode === "emulator" && onDeploy) {
    problem(
      "WORKOS_CLIENT_ID",
      "is not set, and the local AuthKit emulator is refused on Deno Deploy (anyone could sign in as a demo user); set WORKOS_CLIENT_ID and WORKOS_API_KEY from the WorkOS dashboard (API Keys)",
    );
  }
  const apiKey = e.WORKOS_API_KEY ?? e.WORKOS_CLIENT_SECRET;
  // WorkOS client ids start with `client_` and API keys with `sk_`: a swap is easy to spot.
  if (e.WORKOS_CLIENT_ID?.startsWith("sk_")) {
    problem(
      "WORKOS_CLIENT_ID",
      "holds an API key (sk_…); the client id starts with client_ — are WORKOS_CLIENT_ID and WORKOS_API_KEY swapped?",
    );
  }
  if (apiKey?.startsWith("client_")) {
    problem(
      e.WORKOS_API_KEY ? "WORKOS_API_KEY" : "WORKOS_CLIENT_SECRET",
      "holds a client id (client_…); the API key starts with sk_ — are WORKOS_CLIENT_ID and WORKOS_API_KEY swapped?",
    );
  }
  if (mode === "workos" && !apiKey) {
    problem(
      "WORKOS_API_KEY",
      "is required with WORKOS_CLIENT_ID; copy the secret key (sk_…) from the WorkOS dashboard, API Keys (WORKOS_CLIENT_SECRET is accepted as well)",
    );
  }
  if (mode === "workos" && !e.COOKIE_ENCRYPTION_KEY) {
    problem(
      "COOKIE_ENCRYPTION_KEY",
      "is required outside emulator mode; generate one with `openssl rand -hex 32` and keep it secret and stable",
    );
  }
  if (e.DENO_KV_URL && !e.DENO_KV_ACCESS_TOKEN) {
    problem(
      "DENO_KV_ACCESS_TOKEN",
      "is required with DENO_KV_URL; use a Deno Deploy access token for a Deploy database, or the --access-token of your denokv server",
    );
  }
  const publicHost = new URL(publicUrl).hostname;
  if (onDeploy && !publicUrl.startsWith("https://")) {
    problem("PUBLIC_URL", "must be the app's https:// origin on Deno Deploy");
  } else if (publicUrl.startsWith("http://") && !isLoopbackHost(publicHost)) {
    problem(
      "PUBLIC_URL",
      "must be https:// unless the host is localhost or 127.0.0.1 (OAuth endpoints must not run over plain http); put a TLS proxy in front and set PUBLIC_URL to its https origin",
    );
  }
  if (problems.length) throw ConfigError.of(problems);
  if (mode === "emulator" && !isLoopbackHost(publicHost)) {
    warnings.push(
      `PUBLIC_URL is ${publicUrl} but WORKOS_CLIENT_ID is not set: the local AuthKit emulator is reachable there and anyone can sign in as a demo user; set WORKOS_CLIENT_ID, WORKOS_API_KEY and COOKIE_ENCRYPTION_KEY for real sign-in`,
    );
  }

  const cimdAllowLoopback = e.CIMD_ALLOW_LOOPBACK === "true";
  if (cimdAllowLoopback && (onDeploy || (mode === "workos" && !isLoopbackHost(publicHost)))) {
    throw new ConfigError(
      "CIMD_ALLOW_LOOPBACK",
      "is a development switch (client metadata documents fetched from loopback and over http) and is refused on Deno Deploy and on a public PUBLIC_URL; remove it",
    );
  }

  const publicOrigin = new URL(publicUrl);
  const emulator = mode === "emulator";
  const apiHostname = e.WORKOS_API_HOSTNAME ??
    (emulator ? publicOrigin.hostname : "api.workos.com");
  const apiHttps = e.WORKOS_API_HTTPS !== undefined
    ? e.WORKOS_API_HTTPS === "true"
    : emulator
    ? publicOrigin.protocol === "https:"
    : true;
  const apiPort = e.WORKOS_API_PORT ??
    (emulator && !e.WORKOS_API_HOSTNAME ? Number(publicOrigin.port) || undefined : undefined);
  const clientId = e.WORKOS_CLIENT_ID ?? EMULATOR_CLIENT_ID;
  const apiBase = `${apiHttps ? "https" : "http"}://${apiHostname}${apiPort ? `:${apiPort}` : ""}`;
  const issuers = e.WORKOS_ISSUER
    ? e.WORKOS_ISSUER.split(",").map((s) => s.trim()).filter(Boolean)
    : defaultIssuers(apiBase, clientId);

  return {
    mode,
    publicUrl,
    port,
    hostname: e.HOSTNAME ?? (emulator ? "127.0.0.1" : "0.0.0.0"),
    kvPath: onDeploy ? undefined : e.DENO_KV_URL ?? e.KV_PATH ?? ".data/kv.sqlite3",
    workos: {
      clientId,
      apiKey: apiKey ?? EMULATOR_API_KEY,
      apiHostname,
      apiPort,
      apiHttps,
      issuers,
      timeoutMs: e.WORKOS_TIMEOUT_MS === undefined ? 5000 : Number(e.WORKOS_TIMEOUT_MS),
    },
    refreshGraceSeconds: e.REFRESH_GRACE_SECONDS === undefined
      ? 120
      : Number(e.REFRESH_GRACE_SECONDS),
    cookieEncryptionKey: e.COOKIE_ENCRYPTION_KEY ?? randomKey(),
    previousCookieEncryptionKeys: (e.COOKIE_ENCRYPTION_KEY_PREVIOUS ?? "").split(",")
      .map((k) => k.trim()).filter(Boolean),
    ephemeralKey: !e.COOKIE_ENCRYPTION_KEY,
    emulatorUsersFile: e.AUTHKIT_EMULATOR_USERS,
    onDeploy,
    deploymentId: e.DENO_DEPLOYMENT_ID,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS === undefined ? 30 : Number(e.AUDIT_RETENTION_DAYS),
    workosAuditLogs: e.WORKOS_AUDIT_LOGS === "true",
    permissionsMaxAgeSeconds: e.PERMISSIONS_MAX_AGE_SECONDS === undefined
      ? 300
      : Number(e.PERMISSIONS_MAX_AGE_SECONDS),
    mcp: {
      sessionIdleSeconds: e.SESSION_IDLE_SECONDS === undefined
        ? 1800
        : Number(e.SESSION_IDLE_SECONDS),
      allowedOrigins: (e.ALLOWED_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
      pollMs: e.KV_POLL_MS === undefined ? 100 : Number(e.KV_POLL_MS),
      fastPath: e.MCP_FAST_PATH !== "off",
    },
    limits: {
      registerPerHour: Number(e.REGISTER_RATE_LIMIT ?? 30),
      authorizePerHour: Number(e.AUTHORIZE_RATE_LIMIT ?? 120),
      trustedProxyHeader: e.TRUSTED_PROXY_HEADER?.toLowerCase(),
      maxStreamsPerGrant: Number(e.MAX_STREAMS_PER_GRANT ?? 20),
      maxSessionsPerGrant: Number(e.MAX_SESSIONS_PER_GRANT ?? 50),
    },
    cimdAllowLoopback,
    cloudflare: {
      accountId: e.CLOUDFLARE_ACCOUNT_ID,
      apiToken: e.CLOUDFLARE_API_TOKEN,
      apiBaseUrl: e.CLOUDFLARE_API_BASE_URL,
    },
    brand: {
      name: e.SERVER_NAME ?? DEFAULT_SERVER_NAME,
      logoUrl: e.SERVER_LOGO_URL,
      accentColor: (e.SERVER_ACCENT_COLOR ?? DEFAULT_ACCENT_COLOR).toLowerCase(),
    },
    warnings,
  };
}

function randomKey(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** The MCP resource identifiers we serve (RFC 8707 / RFC 9728). */
export function resources(config: Pick<Config, "publicUrl">): { mcp: string; sse: string } {
  return { mcp: `${config.publicUrl}/mcp`, sse: `${config.publicUrl}/sse` };
}
