import { describe, expect, it } from "vitest";
import { ConfigError, defaultLimits, parseConfig } from "./config.js";

describe("parseConfig", () => {
  it("defaults to the embedded mode with dev auth", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
      dataDir: "./data",
      workers: 1,
      databaseUrl: null,
      devAuth: true,
      limits: defaultLimits,
    });
  });

  it("turns dev auth off by default with Postgres, and then needs an OIDC issuer", () => {
    expect(() => parseConfig({ DATABASE_URL: "postgres://x@h/db" })).toThrow(/COLINK_OIDC_ISSUER/);
    const c = parseConfig({ DATABASE_URL: "postgres://x@h/db", COLINK_OIDC_ISSUER: "http://kc/realms/r" });
    expect(c.devAuth).toBe(false);
    expect(c.workers).toBe(2);
    expect(c.dbPool).toBe(3);
    expect(parseConfig({}).workers).toBe(1);
    expect(parseConfig({ DATABASE_URL: "postgres://x@h/db", COLINK_DEV_AUTH: "on" }).devAuth).toBe(true);
  });

  it.each([
    ["COLINK_PORT", "abc"],
    ["COLINK_PORT", "70000"],
    ["COLINK_WORKERS", "-1"],
    ["COLINK_DB_POOL", "0"],
    ["COLINK_DEV_AUTH", "maybe"],
    ["DATABASE_URL", "mysql://x/y"],
    ["COLINK_OIDC_ISSUER", "not a url"],
    ["COLINK_MAX_PAYLOAD_BYTES", "10"],
    ["COLINK_REPLAY_LIMIT", "1.5"],
    ["COLINK_HOST", "a b"],
    ["COLINK_DB_SCHEMA", "a-b"],
    ["COLINK_DB_SCHEMA", "x; drop table users"],
    ["COLINK_CORS_ORIGINS", "example.com"],
    ["COLINK_CORS_ORIGINS", "http://a.example/"],
    ["COLINK_CORS_ORIGINS", "http://a.example,ftp://b.example"],
    ["COLINK_CORS_ORIGINS", "https://a.example/app"],
    ["COLINK_LOG_LEVEL", "loud"],
    ["OPENSEARCH_URL", "opensearch:9200"],
    ["COLINK_SEARCH_INDEX_PREFIX", "Colink!"],
    ["KAFKA_BROKERS", "kafka"],
    ["KAFKA_BROKERS", "a:9092,,b:9092"],
    ["COLINK_DEV_TOKEN_TTL_SEC", "10"],
  ])("refuses %s=%s with a line naming it", (name, value) => {
    try {
      parseConfig({ [name]: value });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(name);
      expect((err as Error).message).toMatch(new RegExp(`^${name}: `));
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("joins a cluster with REDIS_URL (which needs the shared Postgres), named by COLINK_NODE_ID", () => {
    expect(parseConfig({}).redisUrl).toBeNull();
    expect(parseConfig({ COLINK_PORT: "9000" }).nodeId).toMatch(/:9000$/);
    expect(() => parseConfig({ REDIS_URL: "redis://r:6379" })).toThrow(/REDIS_URL: needs DATABASE_URL/);
    const c = parseConfig({
      DATABASE_URL: "postgres://x@h/db",
      COLINK_DEV_AUTH: "on",
      REDIS_URL: "redis://r:6379",
      COLINK_NODE_ID: "node-1",
      COLINK_LEASE_TTL_MS: "3000",
    });
    expect(c).toMatchObject({ redisUrl: "redis://r:6379", nodeId: "node-1", leaseTtlMs: 3000 });
    expect(() => parseConfig({ COLINK_NODE_ID: "a b" })).toThrow(/COLINK_NODE_ID/);
    expect(() => parseConfig({ COLINK_LEASE_TTL_MS: "10" })).toThrow(/COLINK_LEASE_TTL_MS/);
    expect(() => parseConfig({ REDIS_URL: "http://r" })).toThrow(/REDIS_URL/);
  });

  it("reads every limit, and the environment wins over the config file", () => {
    const c = parseConfig(
      { COLINK_MAX_MESSAGE_CHARS: "100" },
      { COLINK_MAX_MESSAGE_CHARS: "50", COLINK_PORT: "9000" },
    );
    expect(c.limits.maxMessageChars).toBe(100);
    expect(c.port).toBe(9000);
  });

  it("reads COLINK_DB_SCHEMA like every other setting, from the file too", () => {
    expect(parseConfig({}).dbSchema).toBeNull();
    expect(parseConfig({}, { COLINK_DB_SCHEMA: "tenant_a" }).dbSchema).toBe("tenant_a");
    expect(parseConfig({ COLINK_DB_SCHEMA: "b" }, { COLINK_DB_SCHEMA: "tenant_a" }).dbSchema).toBe("b");
  });

  it("reads COLINK_LOG_LEVEL, info when unset", () => {
    expect(parseConfig({}).logLevel).toBe("info");
    expect(parseConfig({ COLINK_LOG_LEVEL: "DEBUG" }).logLevel).toBe("debug");
    expect(parseConfig({}, { COLINK_LOG_LEVEL: "warn" }).logLevel).toBe("warn");
  });

  it("reads COLINK_CORS_ORIGINS as a comma list of origins; unset means none", () => {
    expect(parseConfig({}).corsOrigins).toEqual([]);
    expect(
      parseConfig({ COLINK_CORS_ORIGINS: " https://chat.example.com , http://127.0.0.1:5173 ," }).corsOrigins,
    ).toEqual(["https://chat.example.com", "http://127.0.0.1:5173"]);
  });

  it("reads the search index, the event stream and the web client's settings, all off or default when unset", () => {
    expect(parseConfig({})).toMatchObject({
      opensearchUrl: null,
      searchIndexPrefix: "colink",
      kafkaBrokers: null,
      devTokenTtlSec: 86_400,
      webDir: "./web/dist",
      oidcWebClientId: null,
    });
    expect(
      parseConfig({
        OPENSEARCH_URL: "http://127.0.0.1:9200",
        COLINK_SEARCH_INDEX_PREFIX: "prod-1",
        KAFKA_BROKERS: "k1:9092, k2:9093",
        COLINK_DEV_TOKEN_TTL_SEC: "60",
        COLINK_WEB_DIR: "/srv/web",
      }),
    ).toMatchObject({
      opensearchUrl: "http://127.0.0.1:9200",
      searchIndexPrefix: "prod-1",
      kafkaBrokers: ["k1:9092", "k2:9093"],
      devTokenTtlSec: 60,
      webDir: "/srv/web",
    });
  });
});
