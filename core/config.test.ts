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
    ["COLINK_RATE_WINDOW_SEC", "0"],
    ["COLINK_RATE_SEND", "-1"],
    ["COLINK_RATE_READ_PER_IP", "lots"],
    ["COLINK_MAX_CONNS_PER_USER", "2000000"],
    ["COLINK_PROXY_HOPS", "11"],
    ["COLINK_HSTS", "sometimes"],
    ["COLINK_USER_RATE_PER_SEC", "50"],
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

  it("reads the sign-in client, its scopes (with openid always) and who may introspect tokens", () => {
    expect(parseConfig({})).toMatchObject({
      oidcWebClientId: null,
      oidcWebScope: "openid profile",
      oidcIntrospectClients: ["service-internal"],
    });
    expect(
      parseConfig({
        COLINK_OIDC_WEB_CLIENT_ID: "web-app",
        COLINK_OIDC_WEB_SCOPE: " profile  email ",
        COLINK_OIDC_INTROSPECT_CLIENTS: " service-internal , audit-bot ,",
      }),
    ).toMatchObject({
      oidcWebClientId: "web-app",
      oidcWebScope: "openid profile email",
      oidcIntrospectClients: ["service-internal", "audit-bot"],
    });
    expect(() => parseConfig({ COLINK_OIDC_INTROSPECT_CLIENTS: "a b" })).toThrow(
      /COLINK_OIDC_INTROSPECT_CLIENTS/,
    );
  });

  it("reads the search index, the event stream and the web client's settings, all off or default when unset", () => {
    expect(parseConfig({})).toMatchObject({
      opensearchUrl: null,
      searchIndexPrefix: "colink",
      kafkaBrokers: null,
      searchFeed: "log",
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
      searchFeed: "kafka",
      devTokenTtlSec: 60,
      webDir: "/srv/web",
    });
  });

  it("feeds OpenSearch from Kafka when both are configured, unless told to follow the logs", () => {
    const both = { OPENSEARCH_URL: "http://os:9200", KAFKA_BROKERS: "k1:9092" };
    expect(parseConfig(both).searchFeed).toBe("kafka");
    expect(parseConfig({ ...both, COLINK_SEARCH_FEED: "log" }).searchFeed).toBe("log");
    expect(parseConfig({ OPENSEARCH_URL: "http://os:9200" }).searchFeed).toBe("log");
    expect(parseConfig({ KAFKA_BROKERS: "k1:9092", COLINK_SEARCH_FEED: "log" }).searchFeed).toBe("log");
    expect(() => parseConfig({ OPENSEARCH_URL: "http://os:9200", COLINK_SEARCH_FEED: "kafka" })).toThrow(
      /COLINK_SEARCH_FEED: kafka needs both/,
    );
    expect(() => parseConfig({ ...both, COLINK_SEARCH_FEED: "redis" })).toThrow(/COLINK_SEARCH_FEED/);
  });

  it("keeps files on local disk with no scanner by default, and reads the S3, clamd and policy settings", () => {
    expect(parseConfig({ COLINK_DATA_DIR: "/d" }).files).toEqual({
      dir: "/d/files",
      publicUrl: "",
      urlSecret: null,
      s3: null,
      clamav: null,
      policy: { maxBytes: 100 * 1024 * 1024, allowedTypes: ["*/*"], unscanned: "allow", scanning: false },
    });
    const files = parseConfig({
      CLAMAV_URL: "tcp://clamav:3310",
      COLINK_FILE_TYPES: "image/*, application/PDF",
      COLINK_MAX_FILE_BYTES: "1048576",
      COLINK_PUBLIC_URL: "https://chat.example.com/",
      S3_BUCKET_FILES: "files",
      S3_ENDPOINT: "http://minio:9000",
      S3_FORCE_PATH_STYLE: "on",
      S3_ACCESS_KEY_ID: "k",
      S3_SECRET_ACCESS_KEY: "s",
    }).files;
    expect(files).toMatchObject({
      publicUrl: "https://chat.example.com",
      clamav: { host: "clamav", port: 3310 },
      // With a scanner, unscanned files are blocked unless the operator says otherwise.
      policy: {
        maxBytes: 1048576,
        allowedTypes: ["image/*", "application/pdf"],
        unscanned: "block",
        scanning: true,
      },
      s3: {
        endpoint: "http://minio:9000",
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "k", secretAccessKey: "s" },
        buckets: { files: "files", avatars: "files-avatars", thumbnails: "files-thumbnails" },
      },
    });
    const refused: Array<[Record<string, string>, string]> = [
      [{ CLAMAV_URL: "http://clamav:3310" }, "CLAMAV_URL"],
      [{ COLINK_UNSCANNED_FILES: "maybe" }, "COLINK_UNSCANNED_FILES"],
      [{ COLINK_FILE_TYPES: "images" }, "COLINK_FILE_TYPES"],
      [{ COLINK_FILE_URL_SECRET: "short" }, "COLINK_FILE_URL_SECRET"],
      [{ COLINK_MAX_FILE_BYTES: "0" }, "COLINK_MAX_FILE_BYTES"],
      // Local disk: browsers send a Content-Length, of which the HTTP server reads 9 digits.
      [{ COLINK_MAX_FILE_BYTES: "1000000000" }, "COLINK_MAX_FILE_BYTES"],
      [{ S3_BUCKET_FILES: "f", S3_ACCESS_KEY_ID: "k" }, "S3_ACCESS_KEY_ID"],
    ];
    for (const [env, variable] of refused) {
      expect(() => parseConfig(env), variable).toThrow(expect.objectContaining({ variable }));
    }
  });

  it("has the rate limits and connection caps on by default, each off at 0", () => {
    const { limits } = parseConfig({});
    expect(limits).toMatchObject({
      rateWindowSec: 10,
      rateSend: 50,
      maxConnsPerUser: 20,
      maxConnsPerIp: 1000,
    });
    for (const [key, value] of Object.entries(limits)) expect(value, key).toBeGreaterThan(0);
    const off = parseConfig({ COLINK_RATE_SEND: "0", COLINK_MAX_CONNS_PER_IP: "0" }).limits;
    expect(off).toMatchObject({ rateSend: 0, maxConnsPerIp: 0 });
  });

  it("sends HSTS when clients come over https, or when told; trusts no proxy unless told", () => {
    expect(parseConfig({}).hsts).toBe(false);
    expect(parseConfig({ COLINK_PUBLIC_URL: "https://chat.example.com" }).hsts).toBe(true);
    expect(parseConfig({ COLINK_PUBLIC_URL: "http://chat.example.com" }).hsts).toBe(false);
    expect(parseConfig({ COLINK_PUBLIC_URL: "https://chat.example.com", COLINK_HSTS: "off" }).hsts).toBe(
      false,
    );
    expect(parseConfig({ COLINK_HSTS: "on" }).hsts).toBe(true);
    expect(parseConfig({}).proxyHops).toBe(0);
    expect(parseConfig({ COLINK_PROXY_HOPS: "2" }).proxyHops).toBe(2);
  });
});
