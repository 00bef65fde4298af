/**
 * The caller's identity as the bearer middleware establishes it. Every MCP route and tool handler sees
 * this, and nothing here comes from the client: it is read from our own token and grant records in KV.
 *
 * @module
 */

/** Who is calling, from a verified access token and its grant. */
export interface Identity {
  /** WorkOS user id (`user_…`). */
  readonly userId: string;
  /** The user's email, for display. */
  readonly email: string;
  /** The user's display name, when WorkOS has one. */
  readonly name: string | null;
  /** The organization the grant was signed in to (`org_…`), or null without one. */
  readonly organizationId: string | null;
  /** The membership's role slug, or null without an organization. */
  readonly role: string | null;
  /** Every role slug of the membership. */
  readonly roles: readonly string[];
  /** AuthKit permission slugs of the membership, as last verified from WorkOS. */
  readonly permissions: readonly string[];
  /** The OAuth client (registered by DCR) the token was issued to. */
  readonly clientId: string;
  /** Our grant id: one per sign-in of one user through one client. */
  readonly grantId: string;
  /** OAuth scopes the client asked for (informational; permissions decide access). */
  readonly scopes: readonly string[];
  /** The resource (RFC 8707) the token is bound to, or null for a token bound to every resource of ours. */
  readonly resource: string | null;
  /** When the access token expires, in ms since the epoch. */
  readonly expiresAt: number;
}
