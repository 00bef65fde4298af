/**
 * A scripted browser for tests: a cookie jar, manual redirect following, and submitting a page's forms
 * the way a person would (the first form unless told otherwise). It treats http://localhost as a secure
 * context, as Chrome and Firefox do, so `Secure`/`__Host-` cookies work on loopback.
 *
 * @module
 */

/** A page the browser stopped at. */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

/** A form parsed from a page. */
export interface Form {
  method: string;
  action: string;
  fields: Record<string, string>;
}

/** A minimal browser over `fetch`. */
export class ScriptedBrowser {
  readonly jar = new Map<string, string>();
  /** Every URL requested, in order. */
  readonly history: string[] = [];

  /**
   * Requests `url` and follows redirects until a page answers or `stopAt` says the next URL is not to be
   * fetched (e.g. the client's redirect URI); then returns that URL as a 302 "page" with an empty body.
   */
  async go(
    url: string,
    init: { method?: string; body?: URLSearchParams; stopAt?: (url: URL) => boolean } = {},
  ): Promise<Page> {
    let current = url;
    let method = init.method ?? "GET";
    let body: URLSearchParams | undefined = init.body;
    for (let hops = 0; hops < 20; hops++) {
      if (init.stopAt?.(new URL(current))) {
        return { url: current, status: 302, headers: new Headers(), body: "" };
      }
      this.history.push(`${method} ${current}`);
      const headers = new Headers({ accept: "text/html" });
      const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
      if (cookie) headers.set("cookie", cookie);
      if (body) {
        headers.set("content-type", "application/x-www-form-urlencoded");
        headers.set("origin", new URL(current).origin);
      }
      const res = await fetch(current, {
        method,
        headers,
        redirect: "manual",
        ...(body ? { body } : {}),
      });
      this.#store(res.headers);
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current).href;
        method = "GET";
        body = undefined;
        continue;
      }
      return { url: current, status: res.status, headers: res.headers, body: await res.text() };
    }
    throw new Error("Too many redirects");
  }

  /** Submits form number `index` (default the first) of `page`, with `values` filled in. */
  async submit(
    page: Page,
    values: Record<string, string> = {},
    options: { index?: number; stopAt?: (url: URL) => boolean } = {},
  ): Promise<Page> {
    const form = forms(page)[options.index ?? 0];
    if (!form) {
      throw new Error(`No form ${options.index ?? 0} on ${page.url} (status ${page.status})`);
    }
    const body = new URLSearchParams({ ...form.fields, ...values });
    return await this.go(form.action, {
      method: form.method,
      body,
      ...(options.stopAt ? { stopAt: options.stopAt } : {}),
    });
  }

  #store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
}

/** The forms of `page`, with their hidden and pre-filled fields. */
export function forms(page: Page): Form[] {
  const out: Form[] = [];
  for (const m of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = m[1]!;
    const method = (/method="([^"]*)"/i.exec(attrs)?.[1] ?? "GET").toUpperCase();
    const action = new URL(unescape(/action="([^"]*)"/i.exec(attrs)?.[1] ?? ""), page.url).href;
    const fields: Record<string, string> = {};
    for (const input of m[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[1]!)?.[1];
      if (name) fields[unescape(name)] = unescape(/value="([^"]*)"/i.exec(input[1]!)?.[1] ?? "");
    }
    out.push({ method, action, fields });
  }
  return out;
}

function unescape(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll(
    "&gt;",
    ">",
  )
    .replaceAll("&#x27;", "'").replaceAll("&amp;", "&");
}
