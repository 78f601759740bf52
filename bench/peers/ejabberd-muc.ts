/**
 * Peer: ejabberd (Debian's package), Multi-User Chat rooms over XMPP WebSocket. A trusted
 * chat server written by others, in Erlang: a groupchat message goes to every occupant of
 * its room (bench/lib/xmpp-muc.ts speaks the client side).
 *
 * It starts a private ejabberd node from the package's code with its own configuration,
 * database and logs in a temporary directory, anonymous log-in, no history, no archive,
 * no traffic shaping and presence broadcast only for moderators (otherwise every join
 * would tell every occupant: a million stanzas to fill a room of 1,000). Prints
 * `server pid N` (the Erlang VM, whose CPU the scenario measures) and then
 * `listening on http://127.0.0.1:PORT` once the WebSocket endpoint answers; stops
 * ejabberd on SIGTERM.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "../../test/support/processes.js";
import { ejabberdInstalled, ejabberdLibs } from "../lib/peers.js";
import { mucDomain, xmppDomain, xmppWsPath } from "../lib/xmpp-muc.js";

/** The configuration: one loopback listener with the XMPP WebSocket handler, and MUC. */
function config(port: number): string {
  return `hosts:
  - ${xmppDomain}
loglevel: warning
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      ${xmppWsPath}: ejabberd_http_ws
auth_method: anonymous
anonymous_protocol: sasl_anon
allow_multiple_connections: true
max_fsm_queue: 100000
shaper_rules:
  max_user_sessions: 1000000
access_rules:
  muc_create:
    allow: all
modules:
  mod_muc:
    host: ${mucDomain}
    access_create: muc_create
    max_users: 10000
    max_user_conferences: 1000
    history_size: 0
    default_room_options:
      max_users: 10000
      mam: false
      persistent: false
      presence_broadcast: [moderator]
`;
}

async function main(): Promise<void> {
  if (!ejabberdInstalled()) throw new Error("ejabberd is not installed (apt-get install ejabberd)");
  const port = Number(process.env.PEER_PORT ?? (await freePort()));
  const dir = mkdtempSync(join(tmpdir(), "colink-ejabberd-"));
  const configPath = join(dir, "ejabberd.yml");
  writeFileSync(configPath, config(port));
  // `erl` execs the VM itself, so this child's pid is the VM's.
  const vm = spawn("erl", ["-noinput", "-mnesia", "dir", `"${join(dir, "spool")}"`, "-s", "ejabberd"], {
    cwd: dir,
    env: {
      ...process.env,
      ERL_LIBS: ejabberdLibs,
      EJABBERD_CONFIG_PATH: configPath,
      EJABBERD_LOG_PATH: join(dir, "ejabberd.log"),
      ERL_CRASH_DUMP: join(dir, "erl_crash.dump"),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const stop = () => {
    vm.kill("SIGTERM");
    setTimeout(() => vm.kill("SIGKILL"), 10_000).unref();
  };
  vm.once("exit", (code) => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code ?? 0);
  });
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  console.log(`server pid ${vm.pid}`);
  await waitForPort(port, 60_000);
  console.log(`listening on http://127.0.0.1:${port}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
