/**
 * Reading a browser form (our consent, organization and account forms): url-encoded or multipart, its
 * string fields only. A body that cannot be parsed (a broken multipart boundary, bad encoding) is the
 * caller's fault and answers 400, another content type 415; Hono's `parseBody()` would throw a plain
 * error for either, which used to surface as a 500.
 *
 * @module
 */
import type { Context } from "hono";
import { RequestError } from "../lib/errors.ts";

const FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"];

/**
 * The form's string fields (files are ignored; a repeated name keeps its first value).
 * @throws {RequestError} `unsupported_media_type` (415) or `malformed_body` (400).
 */
export async function readBrowserForm(c: Context): Promise<URLSearchParams> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!FORM_TYPES.includes(type)) {
    throw new RequestError(
      "unsupported_media_type",
      "Cannot read the form: send it as application/x-www-form-urlencoded or multipart/form-data",
    );
  }
  let data: FormData;
  try {
    data = await c.req.formData();
  } catch (err) {
    throw new RequestError("malformed_body", "Cannot read the form: the body is malformed", {
      cause: err,
    });
  }
  const form = new URLSearchParams();
  for (const [name, value] of data) {
    if (typeof value === "string" && !form.has(name)) form.set(name, value);
  }
  return form;
}
