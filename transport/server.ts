/**
 * Assembles the uWS app: the WebSocket gateway, the HTTP API and the dispatcher that
 * links them to the actors. The composition root passes in what it chose.
 */
import type { us_listen_socket } from "@trufflesuite/uws-js-unofficial";
import type { Outlet } from "../actors/envelope.js";
import type { ActorSystem } from "../actors/runtime/actor-system.js";
import type { Config } from "../core/config.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { DevLogin, RateCounters, TokenVerifier } from "../core/ports.js";
import { AuthRoutes, authConfigOf } from "./auth-routes.js";
import { CorsPolicy } from "./cors.js";
import { Dispatcher } from "./dispatcher.js";
import { Gateway } from "./gateway.js";
import { HttpApi } from "./http-api.js";
import { UserRateLimiter } from "./rate-limit.js";
import { contentSecurityPolicy, registerMissingSite, StaticSite } from "./static-site.js";
import { loadUws } from "./uws.js";

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT. */
const exclusivePort = 1;

/** What the server is built from. */
export interface ServerParts {
  config: Config;
  verifier: TokenVerifier;
  devLogin: DevLogin | null;
  /** Starts the actors, answering through `outlet`. */
  startActors(outlet: Outlet): Promise<ActorSystem>;
  /** Where the transport writes internal errors (one child per part). */
  logger?: Logger;
  /** In a cluster: the counters that make a user's rate limit hold across nodes. */
  rateCounters?: RateCounters;
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
  const dispatcher = new Dispatcher({
    publish: (topic, frame) => gateway?.publish(topic, frame),
    revoke: (userId, topic) => gateway?.revoke(userId, topic),
  });
  const actors = await parts.startActors(dispatcher);
  dispatcher.attach(actors);
  const rateLimit = new UserRateLimiter(config.limits.userRatePerSec, parts.rateCounters);
  const cors = new CorsPolicy(config.corsOrigins);
  const logger = parts.logger ?? silentLogger;
  gateway = new Gateway(
    app,
    dispatcher,
    parts.verifier,
    config.limits,
    rateLimit,
    actors.interest,
    cors,
    logger.child({ part: "ws" }),
  );
  gateway.register();
  new AuthRoutes(
    app,
    dispatcher,
    parts.devLogin,
    authConfigOf(config),
    cors,
    config.limits.maxPayloadBytes,
    logger.child({ part: "auth" }),
  ).register();
  const site = StaticSite.load(config.webDir, contentSecurityPolicy(config.oidcIssuer));
  if (site) site.register(app);
  else {
    registerMissingSite(app, config.webDir);
    logger.warn({ webDir: config.webDir }, "no web client build: / answers 404 (run npm run build)");
  }
  new HttpApi(
    app,
    dispatcher,
    parts.verifier,
    config.limits,
    rateLimit,
    () => actors.ready(),
    cors,
    logger.child({ part: "http" }),
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
        rateLimit.stop();
        gateway?.drain();
        await actors.close();
      })();
      return closing;
    },
  };
}
