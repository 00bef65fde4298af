/**
 * Every Deno KV key the service uses, built in one place. Keys are tuples (no string concatenation, so
 * no delimiter injection); secrets appear in keys only as SHA-256 hashes.
 *
 * @module
 */

/** KV key builders, grouped by concern. */
export const keys = {
  /** A registered OAuth client (RFC 7591). */
  client: (clientId: string): Deno.KvKey => ["oauth", "client", clientId],
  /**
   * A validated client ID metadata document (see `auth/cimd.ts`), by the SHA-256 of its URL (URLs may be
   * longer than a key part may be).
   */
  clientMetadata: (urlHash: string): Deno.KvKey => ["oauth", "client_metadata", urlHash],
  /** A validated authorization request awaiting the user's consent, by request id. */
  consentRequest: (requestId: string): Deno.KvKey => ["oauth", "consent_request", requestId],
  /** A pending upstream (AuthKit) authorization, by the hash of our upstream `state`. */
  pending: (stateHash: string): Deno.KvKey => ["oauth", "pending", stateHash],
  /** An authorization code, by its hash. */
  code: (codeHash: string): Deno.KvKey => ["oauth", "code", codeHash],
  /** A grant: one user signed in through one client. */
  grant: (grantId: string): Deno.KvKey => ["oauth", "grant", grantId],
  /** Prefix of {@linkcode keys.grant}. */
  grants: (): Deno.KvKey => ["oauth", "grant"],
  /** Index of a user's grants. */
  userGrant: (
    userId: string,
    grantId: string,
  ): Deno.KvKey => ["oauth", "user_grant", userId, grantId],
  /** Prefix of {@linkcode keys.userGrant}. */
  userGrants: (userId: string): Deno.KvKey => ["oauth", "user_grant", userId],
  /** An access token, by its hash. */
  accessToken: (tokenHash: string): Deno.KvKey => ["oauth", "access", tokenHash],
  /** A refresh token, by its hash. */
  refreshToken: (tokenHash: string): Deno.KvKey => ["oauth", "refresh", tokenHash],
  /** The heartbeat of the exchange in flight for a refresh token (expires when its process dies). */
  refreshClaim: (tokenHash: string): Deno.KvKey => ["oauth", "refresh_claim", tokenHash],
  /**
   * The token pair issued in exchange for a refresh token or code, sealed, kept only for the grace window
   * so a retry or a concurrent request gets the same pair.
   */
  issuedPair: (
    kind: "refresh" | "code",
    tokenHash: string,
  ): Deno.KvKey => ["oauth", "issued_pair", kind, tokenHash],
  /** A fingerprint of the current COOKIE_ENCRYPTION_KEY, to notice a key change at start. */
  keyFingerprint: (): Deno.KvKey => ["oauth", "key_fingerprint"],
  /** Index of every token issued from a grant, so revoking the grant can delete them. */
  grantToken: (grantId: string, kind: "access" | "refresh", tokenHash: string): Deno.KvKey => [
    "oauth",
    "grant_token",
    grantId,
    kind,
    tokenHash,
  ],
  /** Prefix of {@linkcode keys.grantToken}. */
  grantTokens: (grantId: string): Deno.KvKey => ["oauth", "grant_token", grantId],
  /** The short lease held by the instance refreshing a grant's WorkOS session. */
  upstreamLease: (grantId: string): Deno.KvKey => ["oauth", "upstream_lease", grantId],
  /** A browser session on our own pages (the account page), by the hash of its cookie. */
  webSession: (sessionHash: string): Deno.KvKey => ["web", "session", sessionHash],
  /** A 2025 Streamable HTTP session, under the user it is bound to (never found under another). */
  mcpSession: (
    userId: string,
    sessionId: string,
  ): Deno.KvKey => ["mcp", "session", userId, sessionId],
  /** Prefix of {@linkcode keys.mcpSession}. */
  mcpSessions: (userId: string): Deno.KvKey => ["mcp", "session", userId],
  /** Event `index` (from 1) of a resumable SSE response to a 2025 POST (see `mcp/cluster/post_streams.ts`). */
  postStreamEvent: (
    streamId: string,
    index: number,
  ): Deno.KvKey => ["mcp", "post_stream", streamId, "event", index],
  /** A batch of resumable one-event answers to 2025 POSTs (see `mcp/cluster/answer_batches.ts`). */
  answerBatch: (batchId: string): Deno.KvKey => ["mcp", "answer_batch", batchId],
  /** The end of a resumable POST stream: how many events it had. */
  postStreamEnd: (streamId: string): Deno.KvKey => ["mcp", "post_stream", streamId, "end"],
  /** A 2024-11-05 SSE session, under the user it is bound to; names the instance holding its stream. */
  sseSession: (
    userId: string,
    sessionId: string,
  ): Deno.KvKey => ["mcp", "sse", userId, sessionId],
  /** Prefix of {@linkcode keys.sseSession} for one user. */
  sseSessions: (userId: string): Deno.KvKey => ["mcp", "sse", userId],
  /** A delivery waiting for the SSE streams of instance `instanceId` (see `mcp/cluster/sse_relay.ts`). */
  sseOutbox: (
    instanceId: string,
    entryId: string,
  ): Deno.KvKey => ["mcp", "sse_outbox", instanceId, entryId],
  /** Prefix of {@linkcode keys.sseOutbox}. */
  sseOutboxes: (instanceId: string): Deno.KvKey => ["mcp", "sse_outbox", instanceId],
  /** One 60 KiB part of an outbox delivery (values are limited to 64 KiB). */
  sseChunk: (
    instanceId: string,
    entryId: string,
    index: number,
  ): Deno.KvKey => ["mcp", "sse_chunk", instanceId, entryId, index],
  /** Prefix of {@linkcode keys.sseChunk} for one delivery. */
  sseChunks: (
    instanceId: string,
    entryId: string,
  ): Deno.KvKey => ["mcp", "sse_chunk", instanceId, entryId],
  /** An instance's doorbell: rewritten whenever its outbox gets a delivery; the instance polls it. */
  doorbell: (instanceId: string): Deno.KvKey => ["mcp", "doorbell", instanceId],
  /** The sequence number of the latest cross-instance event (see `mcp/cluster/bus.ts`); every instance polls it. */
  busHead: (): Deno.KvKey => ["mcp", "bus", "head"],
  /** A cross-instance event, by sequence number. */
  busEvent: (seq: number): Deno.KvKey => ["mcp", "bus", "event", seq],
  /** Prefix of {@linkcode keys.busEvent}. */
  busEvents: (): Deno.KvKey => ["mcp", "bus", "event"],
  /** The fingerprint of the tool catalog last announced (see `mcp/cluster/catalog.ts`). */
  toolCatalog: (): Deno.KvKey => ["mcp", "catalog"],
  /** A fixed-window request counter of one caller (by address hash) for one action. */
  rateWindow: (
    action: string,
    callerHash: string,
    windowStart: number,
  ): Deno.KvKey => ["rate", action, callerHash, windowStart],
  /** The key `/healthz` reads to prove KV answers (never written). */
  healthProbe: (): Deno.KvKey => ["health", "probe"],
  /** The key an instance writes (and deletes) to prove KV takes writes: `/healthz` and the start probe. */
  healthWrite: (instanceId: string): Deno.KvKey => ["health", "write", instanceId],
  /** An audit event under its user. */
  auditUserEvent: (
    userId: string,
    eventId: string,
  ): Deno.KvKey => ["audit", "user", userId, eventId],
  /** Prefix of {@linkcode keys.auditUserEvent}. */
  auditUserEvents: (userId: string): Deno.KvKey => ["audit", "user", userId],
  /** A copy of an audit event under its grant, so a grant's events are one prefix list. */
  auditGrantEvent: (
    grantId: string,
    eventId: string,
  ): Deno.KvKey => ["audit", "grant", grantId, eventId],
  /** Prefix of {@linkcode keys.auditGrantEvent}. */
  auditGrantEvents: (grantId: string): Deno.KvKey => ["audit", "grant", grantId],
  /** An audit event without a user. */
  auditAnonEvent: (eventId: string): Deno.KvKey => ["audit", "anon", eventId],
} as const;
