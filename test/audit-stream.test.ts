/**
 * The audit log on the event stream (issue 23): admin actions and sign-ins reach the Kafka
 * topic `audit.events`, keyed `audit`, each record the whole entry with its hashes, in the
 * chain's order (one partition).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry } from "../core/types.js";
import { api, startServer, type TestServer } from "./harness.js";
import { readStream, startKafka, type TestKafka } from "./support/kafka.js";

describe("audit.events", () => {
  let kafka: TestKafka;
  let server: TestServer;

  beforeAll(async () => {
    kafka = await startKafka();
    server = await startServer("pglite", { KAFKA_BROKERS: kafka.brokers });
  }, 600_000);
  afterAll(async () => {
    await server?.cleanup();
    await kafka?.cleanup();
  });

  it("carries every audit entry, chained, keyed audit", async () => {
    const signIn = async (username: string, role: string) => {
      const res = await fetch(`${server.baseUrl}/auth/dev/token`, {
        method: "POST",
        body: JSON.stringify({ username, role }),
      });
      return (await res.json()) as { accessToken: string; user: { id: string } };
    };
    const admin = await signIn("kadmin", "admin");
    const frank = await signIn("kfrank", "member");
    expect(
      (await api(server, admin.accessToken, "POST", `/v1/admin/users/${frank.user.id}/deactivate`)).status,
    ).toBe(200);
    // The server creates the topic when its stream opens (in the actors' thread): wait for it.
    let reader: Awaited<ReturnType<typeof readStream>> | null = null;
    for (let i = 0; reader === null; i++) {
      try {
        reader = await readStream(kafka.brokers, ["audit.events"]);
      } catch (err) {
        if (i >= 40) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      await reader.until(
        (records) => records.some((r) => (r.event as unknown as { type: string }).type === "user.deactivate"),
        30_000,
        "the deactivation on audit.events",
      );
      const events = reader.records.map((r) => {
        expect(r.key).toBe("audit");
        return r.event as unknown as { id: string; type: string; actor: string; payload: AuditEntry };
      });
      expect(events.map((e) => e.type)).toEqual(["auth.login", "auth.login", "user.deactivate"]);
      const entries = events.map((e) => e.payload);
      expect(entries[0]!.prevHash).toBe("0".repeat(64));
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
      expect(events[2]).toMatchObject({ id: `audit:${entries[2]!.id}`, actor: admin.user.id });
      expect(entries[2]).toMatchObject({ target: frank.user.id, ip: "127.0.0.1" });
    } finally {
      await reader.close();
    }
  });
});
