// Better Auth's own client, unmodified, against a running generated project.
//
//   node client_flow.mjs http://127.0.0.1:8000
//
// Sign-up, sign-in, get-session, change-password (revoking a second device's session),
// sign-out, and sign-in again with the new password; the timestamps of get-session must reach the
// app as the instants the server sent. The only thing added to the client is
// what a browser would do for it: keep the cookies and send an Origin header.
// Exits non-zero with a message on the first `error` or failed check; on success prints one
// JSON line (tests/test_better_auth_client.py reads it).

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAuthClient } from "better-auth/client";

const started = performance.now();
const baseURL = process.argv[2];
if (!baseURL || !/^https?:\/\/[^/]+\/?$/.test(baseURL)) {
  console.error("usage: node client_flow.mjs <base URL, e.g. http://127.0.0.1:8000>");
  process.exit(2);
}
const origin = new URL(baseURL).origin;
const version = JSON.parse(
  readFileSync(new URL("./node_modules/better-auth/package.json", import.meta.url), "utf8"),
).version;

class FlowError extends Error {}

/** A browser's part: a cookie jar per "device", and the Origin header on every request. */
function browser() {
  const jar = new Map();
  const last = { text: "" }; // the raw body of the last response, to compare with what the client parsed
  const customFetchImpl = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", origin);
    if (jar.size) headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key, raw = ""] = attribute.split("=");
        const k = key.trim().toLowerCase();
        if (k === "max-age") return Number(raw.trim()) <= 0;
        if (k === "expires") return Date.parse(raw.trim()) <= Date.now();
        return false;
      });
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    last.text = await response.clone().text();
    return response;
  };
  const client = createAuthClient({ baseURL, fetchOptions: { customFetchImpl } });
  return { client, jar, last };
}

const steps = [];

/** Run one client call; its `error` ends the flow with a message naming the step. */
async function call(step, promise) {
  let result;
  try {
    result = await promise;
  } catch (thrown) {
    throw new FlowError(`${step}: the client threw ${thrown?.stack ?? thrown}`);
  }
  if (result?.error) {
    const { status, statusText, code, message } = result.error;
    throw new FlowError(
      `${step}: HTTP ${status} ${statusText ?? ""} ${code ?? ""} ${message ?? ""}`.replace(/\s+/g, " ").trim() +
        `\n  error: ${JSON.stringify(result.error)}`,
    );
  }
  steps.push(step);
  return result.data;
}

/** Run one call that must fail; return its error. */
async function refused(step, promise) {
  const result = await promise;
  if (!result?.error) throw new FlowError(`${step}: expected an error, got ${JSON.stringify(result?.data)}`);
  steps.push(step);
  return result.error;
}

/**
 * The client turns ISO timestamps into Dates with its own parser: each must be the instant the
 * server sent (to the millisecond), or the app sees wrong createdAt / expiresAt values.
 */
function checkTimestamps(step, rawText, parsed, paths) {
  const raw = JSON.parse(rawText);
  for (const path of paths) {
    const sent = path.split(".").reduce((object, key) => object?.[key], raw);
    const read = path.split(".").reduce((object, key) => object?.[key], parsed);
    check(typeof sent === "string", `${step}: ${path} is missing from the server's answer`, raw);
    check(read instanceof Date, `${step}: the client did not read ${path} (${sent}) as a date`, read);
    const off = read.getTime() - Date.parse(sent);
    check(
      off === 0,
      `${step}: the client reads ${path} ${JSON.stringify(sent)} as ${read.toISOString()} ` +
        `(off by ${(off / 1000).toFixed(3)} s). Better Auth's client takes the digits after the seconds ` +
        "as milliseconds, so the server must send at most 3 (e.g. 2026-01-02T03:04:05.678Z)",
    );
  }
}

function check(condition, message, detail) {
  if (!condition) throw new FlowError(`${message}${detail === undefined ? "" : `\n  got: ${JSON.stringify(detail)}`}`);
}

async function main() {
  const tag = randomBytes(6).toString("hex");
  const email = `ba-client-${tag}@example.com`;
  const name = "Better Auth Client";
  const password = `Harbor-${tag}-lantern`;
  const newPassword = `Quarry-${tag}-meadow`;
  const { client, jar, last } = browser();
  const other = browser(); // a second device, signed out by revokeOtherSessions

  const signUp = await call("sign-up", client.signUp.email({ name, email, password }));
  check(signUp?.user?.email === email, "sign-up: the answer has no user with this email", signUp);

  const signIn = await call("sign-in", client.signIn.email({ email, password }));
  check(signIn?.user?.email === email, "sign-in: the answer has no user with this email", signIn);
  check(jar.size > 0, "sign-in: no cookie was set");
  const userId = signIn.user.id;

  const session = await call("get-session", client.getSession());
  check(session?.user?.email === email, "get-session: not the signed-in user", session);
  check(session?.user?.id === userId, "get-session: user id differs from sign-in's", session);
  // The client's JSON parser turns ISO timestamps into Dates, as it does with Better Auth's server.
  const expiresAt = session?.session?.expiresAt;
  check(expiresAt instanceof Date && expiresAt > new Date(), "get-session: session.expiresAt is not a future date", session);
  checkTimestamps("get-session", last.text, session, [
    "session.expiresAt",
    "session.createdAt",
    "session.updatedAt",
    "user.createdAt",
    "user.updatedAt",
  ]);

  await call("sign-in (second device)", other.client.signIn.email({ email, password }));
  const otherSession = await call("get-session (second device)", other.client.getSession());
  check(otherSession?.user?.id === userId, "get-session (second device): not signed in", otherSession);

  const changed = await call(
    "change-password",
    client.changePassword({ currentPassword: password, newPassword, revokeOtherSessions: true }),
  );
  check(changed?.user?.id === userId, "change-password: the answer has no user", changed);

  const afterChange = await call("get-session (after change)", client.getSession());
  check(afterChange?.user?.id === userId, "get-session: this device was signed out by change-password", afterChange);
  const revoked = await call("get-session (second device, revoked)", other.client.getSession());
  check(revoked === null, "revokeOtherSessions: the second device is still signed in", revoked);

  const signOut = await call("sign-out", client.signOut());
  check(signOut?.success === true, "sign-out: no success", signOut);
  const afterSignOut = await call("get-session (signed out)", client.getSession());
  check(afterSignOut === null, "get-session after sign-out: expected null", afterSignOut);

  const oldRefused = await refused("sign-in with old password refused", client.signIn.email({ email, password }));
  check(oldRefused.status === 401, "sign-in with the old password: expected 401", oldRefused);

  const again = await call("sign-in (new password)", client.signIn.email({ email, password: newPassword }));
  check(again?.user?.id === userId, "sign-in with the new password: not the same user", again);
  const finalSession = await call("get-session (new password)", client.getSession());
  check(finalSession?.user?.email === email, "get-session after signing in again: not signed in", finalSession);

  console.log(
    JSON.stringify({
      ok: true,
      betterAuth: version,
      baseURL,
      email,
      userId,
      steps,
      ms: Math.round(performance.now() - started),
    }),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    const done = steps.length ? `\n  calls answered before it: ${steps.join(", ")}` : "";
    console.error(
      error instanceof FlowError
        ? `Better Auth client flow failed at ${error.message}${done}`
        : `Better Auth client flow crashed: ${error?.stack ?? error}${done}`,
    );
    process.exit(1);
  },
);
