/**
 * Assembles the uWS app: the WebSocket gateway, the HTTP API and the dispatcher that
 * links them to the actors. The composition root passes in what it chose.
 */
import type { us_listen_socket } from "@trufflesuite/uws-js-unofficial";
import { type Outlet, systemPrincipal } from "../actors/envelope.js";
import type { ActorSystem } from "../actors/runtime/actor-system.js";
import type { Config } from "../core/config.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { DevLogin, OidcLogin, RateStore, SignedBlobAccess, TokenVerifier } from "../core/ports.js";
import { AccountGate } from "./account-gate.js";
import { accountOf } from "./account-lookup.js";
import { AuthRoutes, authConfigOf } from "./auth-routes.js";
import { registerBlobRoutes } from "./blob-routes.js";
import { CookieSealer } from "./cookie-sealing.js";
import { CorsPolicy } from "./cors.js";
import { Dispatcher } from "./dispatcher.js";
import { Gateway } from "./gateway.js";
import { HttpApi, type HttpEdge } from "./http-api.js";
import { OidcRoutes } from "./oidc-routes.js";
import { RequestRateLimits } from "./rate-limit.js";
import { dataAnswerHeaders, securityHeaders } from "./security-headers.js";
import { SignInCookies } from "./sign-in-cookies.js";
import { contentSecurityPolicy, fileSourcesOf, registerMissingSite, StaticSite } from "./static-site.js";
import { type RefusedAt, TokenRefusals } from "./token-refusals.js";
import { TokenSessions } from "./token-sessions.js";
import { loadUws } from "./uws.js";

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT. */
const exclusivePort = 1;

/** What the server is built from. */
export interface ServerParts {
  config: Config;
  verifier: TokenVerifier;
  devLogin: DevLogin | null;
  /** Sign-in at the OIDC issuer for browsers (`/auth/login`), when COLINK_OIDC_WEB_CLIENT_ID is set. */
  oidcLogin: OidcLogin | null;
  /** The key that seals the sign-in cookies (32 bytes, the same on every node: app/session-key.ts). */
  sessionKey: Uint8Array;
  /** Starts the actors, answering through `outlet`. */
  startActors(outlet: Outlet): Promise<ActorSystem>;
  /** Where the transport writes internal errors (one child per part). */
  logger?: Logger;
  /** Where the rate limits count: this process's memory, or Redis in a cluster (one budget over the nodes). */
  rateStore: RateStore;
  /** The local-disk blob store, whose signed URLs this server serves; absent with S3. */
  blobAccess?: SignedBlobAccess;
}

/** A listening server. */
export interface RunningServer {
  port: number;
  /** Closes connections with "server draining", drains the actors' commits, stops listening. */
  close(): Promise<void>;
}

/**
 * Starts the actors, then listens. Rejects if the port cannot be bound, or with
 * `NativeTransportError` if no native uWS build loads (the caller checks that first).
 */
export async function startServer(parts: ServerParts): Promise<RunningServer> {
  const { config } = parts;
  const { uws: uWS } = loadUws();
  const app = uWS.App();
  let gateway: Gateway | null = null;
  let accounts: AccountGate | null = null;
  const dispatcher = new Dispatcher({
    publish: (topic, frame) => gateway?.publish(topic, frame),
    revoke: (userId, topic) => gateway?.revoke(userId, topic),
    accountChanged: (userId, change) => {
      accounts?.forget(userId);
      gateway?.accountChanged(userId, change);
    },
  });
  const actors = await parts.startActors(dispatcher);
  dispatcher.attach(actors);
  const rates = new RequestRateLimits(config.limits, parts.rateStore);
  const cors = new CorsPolicy(config.corsOrigins);
  const logger = parts.logger ?? silentLogger;
  // Every way in verifies through these: tokens of deactivated users are refused, a role an
  // admin set replaces the claim, and tokens of signed-out sessions are refused.
  accounts = new AccountGate(parts.verifier, (userId) => accountOf(dispatcher, userId));
  const tokens = new TokenSessions(accounts);
  // Answers that are data (JSON, refusals) carry a CSP that allows nothing; pages and files their own.
  const edge: HttpEdge = { headers: dataAnswerHeaders(config.hsts), proxyHops: config.proxyHops };
  // Refused tokens are audited, within bounds, by the actor keyed `system`.
  const refusals = new TokenRefusals(
    (record) => {
      dispatcher.call(
        {
          actor: "user",
          key: systemPrincipal.userId,
          op: "audit.record",
          args: record as unknown as Record<string, unknown>,
          principal: systemPrincipal,
        },
        {
          settle: (outcome) => {
            if ("ok" in outcome && !outcome.ok)
              logger.warn({ error: outcome.error }, "a refused token could not be audited");
          },
        },
      );
    },
    logger.child({ part: "audit" }),
  );
  const tokenRefused = (ip: string, err: unknown, at: RefusedAt) => refusals.refused(ip, err, at);
  gateway = new Gateway(
    app,
    dispatcher,
    tokens,
    config.limits,
    rates,
    edge,
    actors.interest,
    cors,
    logger.child({ part: "ws" }),
    (principal) => tokens.sessionOf(principal),
    tokenRefused,
  );
  gateway.onResume = () => accounts?.forgetAll();
  gateway.register();
  const signOutHere = (userId: string, sid: string) => {
    tokens.signOut(sid);
    gateway?.endSignInSession(userId, sid);
  };
  actors.signOuts?.onSignOut(signOutHere);
  new AuthRoutes(app, dispatcher, parts.devLogin, authConfigOf(config), {
    cors,
    maxBodyBytes: config.limits.maxPayloadBytes,
    logger: logger.child({ part: "auth" }),
    edge: { ...edge, rates },
  }).register();
  new OidcRoutes(app, {
    login: parts.oidcLogin,
    issuer: config.oidcIssuer,
    tokens,
    cookies: new SignInCookies(
      new CookieSealer(parts.sessionKey),
      config.files.publicUrl.startsWith("https:"),
    ),
    publicUrl: config.files.publicUrl,
    introspectClients: config.oidcIntrospectClients,
    endSession(userId, sid) {
      signOutHere(userId, sid);
      actors.signOuts?.announce(userId, sid);
    },
    dispatcher,
    cors,
    maxBodyBytes: config.limits.maxPayloadBytes,
    logger: logger.child({ part: "sign-in" }),
    edge: { ...edge, rates },
  }).register();
  if (parts.blobAccess)
    registerBlobRoutes(app, parts.blobAccess, {
      logger: logger.child({ part: "blobs" }),
      headers: securityHeaders(config.hsts),
      maxFileBytes: config.files.policy.maxBytes,
      maxPayloadBytes: config.limits.maxPayloadBytes,
    });
  const site = StaticSite.load(
    config.webDir,
    contentSecurityPolicy(fileSourcesOf(config.files)),
    securityHeaders(config.hsts),
    config.limits.maxPayloadBytes,
  );
  if (site) site.register(app);
  else {
    registerMissingSite(app, config.webDir, securityHeaders(config.hsts));
    logger.warn({ webDir: config.webDir }, "no web client build: / answers 404 (run npm run build)");
  }
  new HttpApi(
    app,
    dispatcher,
    tokens,
    config.limits,
    rates,
    edge,
    () => actors.ready(),
    cors,
    logger.child({ part: "http" }),
    tokenRefused,
  ).register();

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    // uWS shares a port between processes by default (SO_REUSEPORT); a second Colink on
    // the same port must fail instead of silently splitting the traffic.
    const listen = app.listen as unknown as (
      host: string,
      port: number,
      options: number,
      cb: (token: us_listen_socket | false) => void,
    ) => void;
    listen.call(app, config.host, config.port, exclusivePort, (token) => {
      if (token) resolve(token);
      else reject(new Error(`COLINK_PORT: cannot listen on ${config.host}:${config.port} (in use?)`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);
  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= (async () => {
        uWS.us_listen_socket_close(listenSocket);
        gateway?.drain();
        await actors.close();
        await parts.rateStore.close();
      })();
      return closing;
    },
  };
}
