/**
 * The emulator's demo users: a JSON file validated with zod, re-read when its mtime changes, plus
 * in-memory permission overrides (which win over the file).
 *
 * File shape: `{ organizations: [{id, name}], users: [{id, email, first_name, last_name,
 * permissions?, memberships?: [{organization_id, role, roles?, permissions}]}] }`. Top-level
 * `permissions` apply to tokens without an organization; a membership's apply to tokens for its
 * organization.
 *
 * @module
 */
import { z } from "zod";

const organizationSchema = z.object({ id: z.string().min(1), name: z.string().min(1) });

const membershipSchema = z.object({
  "organization_id": z.string().min(1),
  role: z.string().min(1),
  roles: z.array(z.string().min(1)).optional(),
  permissions: z.array(z.string()).default([]),
});

const userSchema = z.object({
  id: z.string().min(1),
  email: z.email(),
  "first_name": z.string(),
  "last_name": z.string(),
  permissions: z.array(z.string()).default([]),
  memberships: z.array(membershipSchema).default([]),
});

const usersFileSchema = z.object({
  organizations: z.array(organizationSchema).default([]),
  users: z.array(userSchema),
}).superRefine((data, ctx) => {
  const orgIds = new Set(data.organizations.map((org) => org.id));
  const seen = new Set<string>();
  data.users.forEach((user, i) => {
    for (const key of [`id:${user.id}`, `email:${user.email.toLowerCase()}`]) {
      if (seen.has(key)) {
        ctx.addIssue({ code: "custom", path: ["users", i], message: `duplicate ${key}` });
      }
      seen.add(key);
    }
    user.memberships.forEach((m, j) => {
      if (!orgIds.has(m.organization_id)) {
        ctx.addIssue({
          code: "custom",
          path: ["users", i, "memberships", j, "organization_id"],
          message: `unknown organization "${m.organization_id}"`,
        });
      }
    });
  });
});

/** The validated contents of a users file. */
export type UsersData = z.infer<typeof usersFileSchema>;
/** One demo user. */
export type DemoUser = UsersData["users"][number];
/** One organization. */
export type Organization = UsersData["organizations"][number];

/** What a token carries for a user in one organization (or none). */
export interface Grant {
  organizationId: string | null;
  role?: string;
  roles?: string[];
  permissions: string[];
}

/**
 * Parses and validates the text of a users file.
 * @throws {SyntaxError} when the text is not JSON or does not match the shape
 */
export function parseUsersFile(text: string, name: string): UsersData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse users file "${name}": ${(error as Error).message}`);
  }
  const result = usersFileSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) =>
      `${i.path.join(".") || "(root)"}: ${i.message}`
    );
    throw new SyntaxError(`Cannot load users file "${name}": ${problems.join("; ")}`);
  }
  return result.data;
}

/** Errors that come from the users file (reading, parsing, validating it). */
const usersFileErrors = new WeakSet<Error>();

/** Whether `error` is about the users file (so it can be shown as a readable page, naming the file). */
export function isUsersFileError(error: unknown): boolean {
  return error instanceof Error && usersFileErrors.has(error);
}

function marked<E extends Error>(error: E): E {
  usersFileErrors.add(error);
  return error;
}

/** The mtime and size of a file, or `null` where the platform gives no mtime. */
function stampOf(stat: Deno.FileInfo): string | null {
  return stat.mtime ? `${stat.mtime.getTime()}:${stat.size}` : null;
}

function overrideKey(email: string, organizationId: string | null): string {
  return `${email.toLowerCase()}\n${organizationId ?? ""}`;
}

/** The demo users, kept in sync with their file. Create with {@linkcode UserDirectory.load}. */
export class UserDirectory {
  #file: string | URL;
  #stamp: string | null;
  #data: UsersData;
  #overrides = new Map<string, string[]>();

  private constructor(file: string | URL, stamp: string | null, data: UsersData) {
    this.#file = file;
    this.#stamp = stamp;
    this.#data = data;
  }

  /** Reads and validates `file`; throws a `SyntaxError` or `Deno.errors.NotFound` naming it. */
  static async load(file: string | URL): Promise<UserDirectory> {
    const { stamp, data } = await UserDirectory.#read(file);
    return new UserDirectory(file, stamp, data);
  }

  static async #read(file: string | URL): Promise<{ stamp: string | null; data: UsersData }> {
    const name = file instanceof URL ? decodeURIComponent(file.pathname) : file;
    try {
      const stat = await Deno.stat(file);
      const data = parseUsersFile(await Deno.readTextFile(file), name);
      return { stamp: stampOf(stat), data };
    } catch (error) {
      if (error instanceof SyntaxError) throw marked(error);
      throw marked(
        new Error(`Cannot read users file "${name}": ${(error as Error).message}`, {
          cause: error,
        }),
      );
    }
  }

  /** Re-reads the file if its mtime (or size) changed since the last read. */
  async refresh(): Promise<void> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(this.#file);
    } catch (error) {
      const name = this.#file instanceof URL ? decodeURIComponent(this.#file.pathname) : this.#file;
      throw marked(
        new Error(`Cannot read users file "${name}": ${(error as Error).message}`, {
          cause: error,
        }),
      );
    }
    const stamp = stampOf(stat);
    if (stamp !== null && stamp === this.#stamp) return;
    const next = await UserDirectory.#read(this.#file);
    this.#stamp = next.stamp;
    this.#data = next.data;
  }

  /** The organizations of the file. */
  get organizations(): Organization[] {
    return this.#data.organizations;
  }

  /** The users, with permission overrides applied. */
  get users(): DemoUser[] {
    return this.#data.users.map((user) => this.#withOverrides(user));
  }

  /** The whole data set, with permission overrides applied. */
  snapshot(): UsersData {
    return { organizations: this.organizations, users: this.users };
  }

  /** The user with this email (case-insensitive), if any. */
  findByEmail(email: string): DemoUser | undefined {
    const wanted = email.trim().toLowerCase();
    return this.users.find((user) => user.email.toLowerCase() === wanted);
  }

  /** The user with this id, if any. */
  findById(id: string): DemoUser | undefined {
    return this.users.find((user) => user.id === id);
  }

  /** The organization with this id, if any. */
  organization(id: string): Organization | undefined {
    return this.organizations.find((org) => org.id === id);
  }

  /** What a token for `user` in `organizationId` carries; `undefined` when not a member. */
  grant(user: DemoUser, organizationId: string | null): Grant | undefined {
    if (organizationId === null) return { organizationId: null, permissions: user.permissions };
    const membership = user.memberships.find((m) => m.organization_id === organizationId);
    if (!membership) return undefined;
    return {
      organizationId,
      role: membership.role,
      roles: membership.roles ?? [membership.role],
      permissions: membership.permissions,
    };
  }

  /**
   * Overrides the permissions of `email` in `organizationId` (`null`: outside any organization).
   * @throws {RangeError} when the user is unknown or not a member of the organization
   */
  setPermissions(email: string, organizationId: string | null, permissions: string[]): void {
    const user = this.findByEmail(email);
    if (!user) throw new RangeError(`Cannot set permissions: unknown user "${email}"`);
    if (!this.grant(user, organizationId)) {
      throw new RangeError(
        `Cannot set permissions: "${email}" is not a member of "${organizationId}"`,
      );
    }
    this.#overrides.set(overrideKey(user.email, organizationId), [...permissions]);
  }

  #withOverrides(user: DemoUser): DemoUser {
    const own = this.#overrides.get(overrideKey(user.email, null));
    return {
      ...user,
      permissions: own ?? user.permissions,
      memberships: user.memberships.map((m) => ({
        ...m,
        permissions: this.#overrides.get(overrideKey(user.email, m.organization_id)) ??
          m.permissions,
      })),
    };
  }
}
