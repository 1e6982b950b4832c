// Better Auth's own client, unmodified, against a running generated project.
//
//   node client_flow.mjs http://127.0.0.1:8000 [admin-email admin-password]
//
// Sign-up, sign-in, get-session, change-password (revoking a second device's session),
// sign-out, sign-in again with the new password, then the session list: listSessions,
// revokeSession({token}) and revokeOtherSessions() against other devices. The timestamps of
// get-session and list-sessions must reach the app as the instants the server sent, and no
// session secret (cookie value) may appear in list-sessions: its `token` is a public handle. With an
// admin's address and password, the admin plugin's client (adminClient) then finds that user, lists
// and revokes their sessions, sets their role, bans and unbans them, checks a permission, creates a
// user, sets their password and removes them. The only thing added to the client is what a browser
// would do for it: keep the cookies and send an Origin header.
// Exits non-zero with a message on the first `error` or failed check; on success prints one
// JSON line (tests/test_better_auth_client.py reads it).

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createAuthClient } from "better-auth/client";
import { adminClient } from "better-auth/client/plugins";

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
function browser(plugins = []) {
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
  const client = createAuthClient({ baseURL, plugins, fetchOptions: { customFetchImpl } });
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

  // The session list, as a "manage your devices" page would use it.
  const laptop = browser();
  await call("sign-in (laptop)", laptop.client.signIn.email({ email, password: newPassword }));
  const listed = await call("list-sessions", client.listSessions());
  check(Array.isArray(listed) && listed.length === 2, "list-sessions: expected this device and the laptop", listed);
  const secrets = [...jar.values(), ...laptop.jar.values()];
  check(!secrets.some((secret) => last.text.includes(secret)), "list-sessions: a cookie value is in the answer");
  check(listed.every((s) => s.userId === userId && s.token === s.id), "list-sessions: token is not the public id", listed);
  checkTimestamps(
    "list-sessions",
    last.text,
    listed,
    ["0.createdAt", "0.updatedAt", "0.expiresAt", "1.createdAt", "1.updatedAt", "1.expiresAt"],
  );
  const laptopId = (await call("get-session (laptop)", laptop.client.getSession()))?.session?.id;
  const laptopRow = listed.find((s) => s.id === laptopId);
  check(laptopRow, "list-sessions: the laptop's session is missing", listed);

  const revokedOne = await call("revoke-session", client.revokeSession({ token: laptopRow.token }));
  check(revokedOne?.status === true, "revoke-session: no status", revokedOne);
  const laptopAfter = await call("get-session (laptop, revoked)", laptop.client.getSession());
  check(laptopAfter === null, "revokeSession: the laptop is still signed in", laptopAfter);

  const phone = browser();
  await call("sign-in (phone)", phone.client.signIn.email({ email, password: newPassword }));
  const revokedOthers = await call("revoke-other-sessions", client.revokeOtherSessions());
  check(revokedOthers?.status === true, "revoke-other-sessions: no status", revokedOthers);
  const phoneAfter = await call("get-session (phone, revoked)", phone.client.getSession());
  check(phoneAfter === null, "revokeOtherSessions: the phone is still signed in", phoneAfter);
  const stillHere = await call("get-session (after revoking others)", client.getSession());
  check(stillHere?.user?.id === userId, "revokeOtherSessions: this device was signed out too", stillHere);
  const remaining = await call("list-sessions (only this device)", client.listSessions());
  check(remaining?.length === 1 && remaining[0].id === stillHere.session.id, "list-sessions: expected one", remaining);

  const [adminEmail, adminPassword] = process.argv.slice(3);
  if (adminEmail) await adminFlow(adminEmail, adminPassword, email, userId, newPassword);

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

/** The admin plugin's client against the user of the flow above (`userId`, signed in elsewhere). */
async function adminFlow(adminEmail, adminPassword, email, userId, password) {
  const { client: admin } = browser([adminClient()]);
  const user = browser();
  await call("admin: sign-in", admin.signIn.email({ email: adminEmail, password: adminPassword }));
  await call("admin: user sign-in", user.client.signIn.email({ email, password }));

  const found = await call("admin: list-users", admin.admin.listUsers({ query: { searchValue: email, limit: 10 } }));
  check(found?.total === 1 && found.users[0].id === userId, "list-users: the user is not found", found);
  check(found.users[0].role === "user" && found.users[0].banned === false, "list-users: role or banned missing", found);

  const sessions = await call("admin: list-user-sessions", admin.admin.listUserSessions({ userId }));
  check(sessions?.sessions?.length >= 1, "list-user-sessions: none", sessions);
  const one = await call(
    "admin: revoke-user-session",
    admin.admin.revokeUserSession({ sessionToken: sessions.sessions[0].token }),
  );
  check(one?.success === true, "revoke-user-session: no success", one);

  const impersonated = await call("admin: impersonate-user", admin.admin.impersonateUser({ userId }));
  check(impersonated?.user?.id === userId, "impersonate-user: not the user", impersonated);
  const asUser = (await admin.getSession()).data;
  check(
    asUser?.user?.id === userId && typeof asUser.session.impersonatedBy === "string",
    "impersonate-user: get-session is not the user's, marked",
    asUser,
  );
  const refusedAsUser = await refused(
    "admin: impersonating, no password change",
    admin.changePassword({ currentPassword: password, newPassword: `${password}-x` }),
  );
  check(refusedAsUser.status === 403 && refusedAsUser.code === "IMPERSONATING", "impersonating: expected 403", refusedAsUser);
  await call("admin: stop-impersonating", admin.admin.stopImpersonating());
  const back = (await admin.getSession()).data;
  check(back?.user?.email === adminEmail && !back.session.impersonatedBy, "stop-impersonating: not the admin again", back);

  const renamed = await call("admin: update-user", admin.admin.updateUser({ userId, data: { name: "Renamed By Admin" } }));
  check(renamed?.name === "Renamed By Admin", "update-user: not renamed", renamed);
  const role = await call("admin: set-role", admin.admin.setRole({ userId, role: "support" }));
  check(role?.user?.role === "support", "set-role: role not set", role);
  const allowed = await call(
    "admin: has-permission",
    admin.admin.hasPermission({ permissions: { user: ["ban"], session: ["revoke"] } }),
  );
  check(allowed?.success === true, "has-permission: an admin may ban", allowed);

  const banned = await call(
    "admin: ban-user",
    admin.admin.banUser({ userId, banReason: "client flow", banExpiresIn: 3600 }),
  );
  check(banned?.user?.banned === true && banned.user.banExpires instanceof Date, "ban-user: not banned", banned);
  const refusedBanned = await refused("admin: banned sign-in refused", user.client.signIn.email({ email, password }));
  check(refusedBanned.status === 403 && refusedBanned.code === "BANNED_USER", "banned sign-in: expected 403", refusedBanned);
  const unbanned = await call("admin: unban-user", admin.admin.unbanUser({ userId }));
  check(unbanned?.user?.banned === false, "unban-user: still banned", unbanned);
  await call("admin: user sign-in (unbanned)", user.client.signIn.email({ email, password }));
  const all = await call("admin: revoke-user-sessions", admin.admin.revokeUserSessions({ userId }));
  check(all?.success === true, "revoke-user-sessions: no success", all);
  check((await user.client.getSession()).data === null, "revoke-user-sessions: the user is still signed in");

  const madeEmail = `made-${email}`;
  const made = await call(
    "admin: create-user",
    admin.admin.createUser({ email: madeEmail, name: "Made By Admin", password: `${password}-1` }),
  );
  check(made?.user?.email === madeEmail && made.user.role === "user", "create-user: not created", made);
  const set = await call(
    "admin: set-user-password",
    admin.admin.setUserPassword({ userId: made.user.id, newPassword: `${password}-2` }),
  );
  check(set?.status === true, "set-user-password: no status", set);
  await call("admin: created user signs in", browser().client.signIn.email({ email: madeEmail, password: `${password}-2` }));
  const removed = await call("admin: remove-user", admin.admin.removeUser({ userId: made.user.id }));
  check(removed?.success === true, "remove-user: no success", removed);

  const outsider = await refused("admin: list-users as a user refused", user.client.$fetch("/admin/list-users"));
  check(outsider.status === 404, "list-users as a plain user: expected 404", outsider);
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
