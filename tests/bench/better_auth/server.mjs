// Better Auth, configured as its documentation shows, on SQLite (better-sqlite3), for bench/compare.py.
//
//   node server.mjs seed  <db file> <users> <sessions>   migrate, create the data, print the cookie as JSON
//   node server.mjs serve <db file> <port> [cache]        serve /api/auth/* ("cache": cookie cache on)
//
// BETTER_AUTH_SECRET must be the same for both. Rate limiting keeps its production defaults;
// the benchmark sends each request with another X-Forwarded-For, as it does to the Python app.
import { randomBytes } from "node:crypto";
import http from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";

const PASSWORD = "correct horse battery staple 42";
const DAY = 24 * 60 * 60 * 1000;

function open(file, port, cache) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const auth = betterAuth({
    database: db,
    secret: process.env.BETTER_AUTH_SECRET,
    baseURL: `http://127.0.0.1:${port}`,
    emailAndPassword: { enabled: true, autoSignIn: false },
    session: { cookieCache: { enabled: cache, maxAge: 3600 } },
    rateLimit: { enabled: true },
    telemetry: { enabled: false },
  });
  return { db, auth };
}

const id = () => randomBytes(24).toString("base64url").slice(0, 32);
const email = (n) => `bench-user-${String(n).padStart(5, "0")}@example.com`;

async function seed(file, users, sessions) {
  const { db, auth } = open(file, 3000, false);
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  await auth.api.signUpEmail({ body: { email: email(0), password: PASSWORD, name: "Bench User 0" } });
  db.prepare('UPDATE "user" SET "emailVerified" = 1').run();
  const signedIn = await auth.api.signInEmail({ body: { email: email(0), password: PASSWORD }, asResponse: true });
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const first = db.prepare('SELECT "userId", "password" FROM "account"').get();
  const now = new Date().toISOString();
  const expires = new Date(Date.now() + 6 * DAY).toISOString();
  const addUser = db.prepare(
    'INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt") VALUES (?, ?, ?, 1, ?, ?)',
  );
  const addAccount = db.prepare(
    'INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt") ' +
      "VALUES (?, ?, 'credential', ?, ?, ?, ?)",
  );
  const addSession = db.prepare(
    'INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId") ' +
      "VALUES (?, ?, ?, ?, ?, '203.0.113.7', 'Mozilla/5.0 (X11; Linux x86_64) bench', ?)",
  );
  const userIds = [first.userId];
  db.transaction(() => {
    for (let n = 1; n < users; n++) {
      const userId = id();
      userIds.push(userId);
      addUser.run(userId, `Bench User ${n}`, email(n), now, now);
      addAccount.run(id(), userId, userId, first.password, now, now);
    }
    const existing = db.prepare('SELECT count(*) AS n FROM "session"').get().n;
    for (let n = existing; n < sessions; n++) addSession.run(id(), expires, id(), now, now, userIds[n % userIds.length]);
  })();
  db.exec("ANALYZE");
  const counts = {
    users: db.prepare('SELECT count(*) AS n FROM "user"').get().n,
    sessions: db.prepare('SELECT count(*) AS n FROM "session"').get().n,
  };
  db.close();
  process.stdout.write(JSON.stringify({ cookie, ...counts }) + "\n");
}

function serve(file, port, cache) {
  const { auth } = open(file, port, cache);
  const server = http.createServer(toNodeHandler(auth));
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1");
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const [command, file, ...rest] = process.argv.slice(2);
if (!process.env.BETTER_AUTH_SECRET) throw new Error("set BETTER_AUTH_SECRET");
if (command === "seed") await seed(file, Number(rest[0]), Number(rest[1]));
else if (command === "serve") serve(file, Number(rest[0]), rest[1] === "cache");
else throw new Error(`usage: node server.mjs seed|serve ... (got ${command})`);
