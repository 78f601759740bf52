/**
 * The cluster in docker-compose.yml (three nodes, Postgres, Redis, Traefik) and the
 * Dockerfile, checked without Docker: every node's environment is one Colink reads and
 * accepts, points at the compose file's own Postgres and Redis, and the health checks,
 * dependencies and Traefik routing agree with the port the nodes listen on.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Config, limitVariables, parseConfig, settingVariables } from "../core/config.js";

const root = new URL("../", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), "utf8");

type Mapping = Record<string, unknown>;

function mapping(value: unknown, where: string): Mapping {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value as Mapping;
}

function strings(value: unknown, where: string): string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`${where}: expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `environment` or `labels`, in either compose form (mapping or `KEY=value` list). */
function keyValues(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      strings(value, where).map((entry) => {
        const at = entry.indexOf("=");
        return at < 0 ? [entry, ""] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(mapping(value, where)).map(([key, v]) => {
      // Quoted strings only: unquoted `on`, `8080` or `true` change type between YAML versions.
      if (typeof v !== "string")
        throw new Error(`${where}.${key}: quote the value (got ${JSON.stringify(v)})`);
      return [key, v];
    }),
  );
}

/** The command a health check runs, as one string. */
function healthCommand(service: Mapping, where: string): string {
  const test = mapping(service.healthcheck, `${where}.healthcheck`).test;
  const parts = strings(test, `${where}.healthcheck.test`);
  if (parts.length > 1) expect(["CMD", "CMD-SHELL"], `${where}.healthcheck.test[0]`).toContain(parts[0]);
  return (parts.length > 1 ? parts.slice(1) : parts).join(" ");
}

/** Published ports, short (`[ip:]published:target[/proto]`) or long syntax. */
function publishedPorts(service: Mapping, where: string): Array<{ published: number; target: number }> {
  const ports = service.ports === undefined ? [] : (service.ports as unknown[]);
  return ports.map((port, i) => {
    if (typeof port === "string" || typeof port === "number") {
      const parts = String(port)
        .replace(/\/(tcp|udp)$/, "")
        .split(":");
      if (parts.length < 2) throw new Error(`${where}.ports[${i}]: ${port} publishes no host port`);
      return { published: Number(parts.at(-2)), target: Number(parts.at(-1)) };
    }
    const long = mapping(port, `${where}.ports[${i}]`);
    return { published: Number(long.published), target: Number(long.target) };
  });
}

/** The port a Postgres or Redis service listens on: its image's, unless overridden. */
function listenPort(service: Mapping, where: string, imageDefault: number, portFlag: RegExp): number {
  const command = service.command === undefined ? [] : strings(service.command, `${where}.command`);
  const flag = command.join(" ").match(portFlag);
  const env = keyValues(service.environment, `${where}.environment`);
  return Number(flag?.[1] ?? env.PGPORT ?? imageDefault);
}

function url(value: string | null, where: string): URL {
  expect(value, where).not.toBeNull();
  return new URL(value!);
}

const compose = mapping(parse(read("docker-compose.yml"), { merge: true }), "docker-compose.yml");
const services = mapping(compose.services, "services");
const service = (name: string) => mapping(services[name], `services.${name}`);
const infrastructure = ["postgres", "redis", "traefik", "opensearch", "kafka", "minio", "clamav"];
const nodeNames = Object.keys(services).filter((name) => !infrastructure.includes(name));
const knownVariables = new Set<string>([...settingVariables, ...Object.values(limitVariables)]);

interface Node {
  name: string;
  definition: Mapping;
  env: Record<string, string>;
  config: Config;
  labels: Record<string, string>;
}

const nodes: Node[] = nodeNames.map((name) => {
  const definition = service(name);
  const env = keyValues(definition.environment, `${name}.environment`);
  return {
    name,
    definition,
    env,
    config: parseConfig(env),
    labels: keyValues(definition.labels, `${name}.labels`),
  };
});

describe("docker-compose.yml", () => {
  it("has Postgres 16, Redis 7 and Traefik v3, each from its official image", () => {
    expect(service("postgres").image).toMatch(/^postgres:16(\b|$)/);
    expect(service("redis").image).toMatch(/^redis:7(\b|$)/);
    expect(service("traefik").image).toMatch(/^traefik:v3(\b|$)/);
  });

  it("has exactly three Colink nodes, each built from this repository", () => {
    expect(nodeNames).toHaveLength(3);
    for (const node of nodes) {
      const build = node.definition.build;
      const context = typeof build === "string" ? build : mapping(build, `${node.name}.build`).context;
      expect(context, `${node.name}.build`).toBe(".");
    }
  });

  it("gives each node only variables Colink reads, with values it accepts", () => {
    for (const node of nodes) {
      const unknown = Object.keys(node.env).filter((key) => !knownVariables.has(key));
      expect(unknown, `${node.name}: unknown variables`).toEqual([]);
      expect(() => parseConfig(node.env), node.name).not.toThrow();
    }
  });

  it("points every node at the compose file's Postgres, with its credentials", () => {
    const postgres = service("postgres");
    const pgEnv = keyValues(postgres.environment, "postgres.environment");
    const port = listenPort(postgres, "postgres", 5432, /(?:-p\s+|port=)(\d+)/);
    expect(port).toBe(5432);
    const user = pgEnv.POSTGRES_USER ?? "postgres";
    for (const node of nodes) {
      const db = url(node.config.databaseUrl, `${node.name} DATABASE_URL`);
      expect(db.hostname, node.name).toBe("postgres");
      expect(Number(db.port || 5432), node.name).toBe(port);
      expect(decodeURIComponent(db.username), node.name).toBe(user);
      expect(decodeURIComponent(db.password), node.name).toBe(pgEnv.POSTGRES_PASSWORD);
      expect(db.pathname.slice(1) || user, node.name).toBe(pgEnv.POSTGRES_DB ?? user);
    }
  });

  it("points every node at the compose file's Redis", () => {
    const port = listenPort(service("redis"), "redis", 6379, /--port\s+(\d+)/);
    expect(port).toBe(6379);
    for (const node of nodes) {
      const redis = url(node.config.redisUrl, `${node.name} REDIS_URL`);
      expect(redis.hostname, node.name).toBe("redis");
      expect(Number(redis.port || 6379), node.name).toBe(port);
    }
  });

  it("makes the nodes one cluster: same Postgres, Redis and shard count; distinct node ids", () => {
    const same = (pick: (c: Config) => unknown) => new Set(nodes.map((n) => pick(n.config))).size;
    expect(same((c) => c.databaseUrl)).toBe(1);
    expect(same((c) => c.redisUrl)).toBe(1);
    expect(same((c) => c.shards)).toBe(1);
    expect(same((c) => c.nodeId)).toBe(nodes.length);
    for (const node of nodes) expect(node.env.COLINK_NODE_ID, node.name).toBe(node.config.nodeId);
  });

  it("health-checks Postgres and Redis, and starts the nodes only once both are healthy", () => {
    expect(healthCommand(service("postgres"), "postgres")).toMatch(/\bpg_isready\b/);
    expect(healthCommand(service("redis"), "redis")).toMatch(/\bredis-cli\b.*\bping\b/);
    for (const node of nodes) {
      const dependsOn = mapping(node.definition.depends_on, `${node.name}.depends_on`);
      for (const dependency of ["postgres", "redis"]) {
        const condition = mapping(dependsOn[dependency], `${node.name}.depends_on.${dependency}`).condition;
        expect(condition, `${node.name} on ${dependency}`).toBe("service_healthy");
      }
    }
  });

  it("health-checks each node on /ready at the port it listens on", () => {
    for (const node of nodes) {
      const command = healthCommand(node.definition, node.name);
      const targets = command.match(/https?:\/\/[^\s'"`)]+/g) ?? [];
      expect(targets, `${node.name}: one URL in the health check`).toHaveLength(1);
      const target = new URL(targets[0]!);
      expect(["127.0.0.1", "localhost", "[::1]"], node.name).toContain(target.hostname);
      expect(Number(target.port || 80), node.name).toBe(node.config.port);
      expect(target.pathname, node.name).toBe("/ready");
    }
  });

  describe("Traefik", () => {
    const traefik = service("traefik");
    const args = strings(traefik.command ?? [], "traefik.command");
    const flag = (name: string) =>
      args.map((arg) => arg.match(new RegExp(`^--${name}(?:=(.*))?$`, "i"))).find((m) => m !== null);
    const entrypoints = new Map(
      args
        .map((arg) => arg.match(/^--entrypoints\.([\w-]+)\.address=.*:(\d+)(\/tcp)?$/i))
        .filter((m) => m !== null)
        .map((m) => [m[1]!.toLowerCase(), Number(m[2])]),
    );

    it("watches Docker through the read-only socket", () => {
      const docker = flag("providers\\.docker");
      expect(docker, "--providers.docker").toBeDefined();
      expect(["true", undefined]).toContain(docker?.[1]?.toLowerCase());
      const volumes = strings(traefik.volumes ?? [], "traefik.volumes");
      expect(volumes).toContain("/var/run/docker.sock:/var/run/docker.sock:ro");
    });

    it("has an entrypoint, published on the host", () => {
      expect(entrypoints.size).toBeGreaterThan(0);
      const published = publishedPorts(traefik, "traefik");
      expect(published.some((p) => [...entrypoints.values()].includes(p.target) && p.published > 0)).toBe(
        true,
      );
    });

    it("routes every path to one load-balanced service of all three nodes on their port, checked on /ready", () => {
      const exposedByDefault = flag("providers\\.docker\\.exposedbydefault")?.[1]?.toLowerCase() !== "false";
      const first = nodes[0]!.labels;
      for (const node of nodes) {
        const labels = node.labels;
        // Identical labels: Traefik merges them into one router and one service of three servers.
        expect(labels, `${node.name} labels`).toEqual(first);
        if (!exposedByDefault) expect(labels["traefik.enable"], node.name).toBe("true");
        const routers = Object.keys(labels)
          .map((key) => key.match(/^traefik\.http\.routers\.([\w-]+)\.rule$/)?.[1])
          .filter((name) => name !== undefined);
        const router = routers.find((r) =>
          /^PathPrefix\(`\/`\)$/.test(labels[`traefik.http.routers.${r}.rule`]!),
        );
        expect(router, `${node.name}: a PathPrefix(\`/\`) router without Host`).toBeDefined();
        const onEntrypoints = labels[`traefik.http.routers.${router}.entrypoints`];
        for (const ep of onEntrypoints?.split(",") ?? []) {
          expect([...entrypoints.keys()], node.name).toContain(ep.trim().toLowerCase());
        }
        const servicesInLabels = new Set(
          Object.keys(labels)
            .map((key) => key.match(/^traefik\.http\.services\.([\w-]+)\./)?.[1])
            .filter((name) => name !== undefined),
        );
        const target =
          labels[`traefik.http.routers.${router}.service`] ??
          (servicesInLabels.size === 1 ? [...servicesInLabels][0] : undefined);
        expect(servicesInLabels, `${node.name}: the router's service`).toContain(target);
        const lb = `traefik.http.services.${target}.loadbalancer`;
        expect(labels[`${lb}.server.port`], node.name).toBe(String(node.config.port));
        expect(labels[`${lb}.healthcheck.path`], node.name).toBe("/ready");
      }
    });
  });
});

describe("Dockerfile", () => {
  const exists = existsSync(new URL("Dockerfile", root));
  const dockerfile = exists ? read("Dockerfile") : "";

  it("exists, from node:24 (trixie slim: the glibc its uWS build needs)", () => {
    expect(exists).toBe(true);
    expect(dockerfile).toMatch(/^FROM\s+node:24-trixie-slim\b/m);
  });

  it("installs the workspace's packages before copying the sources", () => {
    expect(dockerfile).toMatch(/^COPY\s+client\/package\.json\s+\.\/client\/\s*$/m);
  });

  it("exposes the port the nodes listen on", () => {
    const exposed = [...dockerfile.matchAll(/^\s*EXPOSE\s+(.+)$/gim)].flatMap((m) =>
      m[1]!
        .trim()
        .split(/\s+/)
        .map((p) => Number(p.replace(/\/tcp$/, ""))),
    );
    expect(exposed).toEqual([...new Set(nodes.map((n) => n.config.port))]);
  });

  it("copies every source directory the build compiles, and runs the built server", () => {
    const build = JSON.parse(read("tsconfig.build.json")) as { include: string[] };
    for (const dir of build.include) {
      expect(dockerfile, `COPY ${dir}`).toMatch(new RegExp(`^COPY\\s+(\\.|${dir}\\s)`, "m"));
    }
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start;
    const main = start?.match(/^node\s+(\S+)$/)?.[1];
    expect(main).toBeDefined();
    expect(dockerfile).toMatch(new RegExp(`^CMD\\s+\\["node",\\s*"${main}"\\]`, "m"));
  });

  it("points every node at the compose file's OpenSearch and Kafka", () => {
    expect(service("opensearch").image).toMatch(/^opensearchproject\/opensearch:2\./);
    expect(service("kafka").image).toMatch(/^apache\/kafka:4\./);
    const kafkaEnv = keyValues(service("kafka").environment, "kafka.environment");
    for (const node of nodes) {
      expect(url(node.config.opensearchUrl, `${node.name} OPENSEARCH_URL`).host).toBe("opensearch:9200");
      expect(node.config.kafkaBrokers, `${node.name} KAFKA_BROKERS`).toEqual(["kafka:9092"]);
    }
    expect(kafkaEnv.KAFKA_ADVERTISED_LISTENERS).toBe("PLAINTEXT://kafka:9092");
  });

  it("keeps files in the compose file's MinIO, signed for the host browsers reach, scanned by its ClamAV", () => {
    expect(service("minio").image).toMatch(/^minio\/minio/);
    expect(service("clamav").image).toMatch(/^clamav\/clamav:1\./);
    const minioEnv = keyValues(service("minio").environment, "minio.environment");
    const published = (service("minio").ports as string[]).map((p) => p.split(":"));
    for (const node of nodes) {
      const s3 = node.config.files.s3;
      expect(s3, `${node.name} S3_BUCKET_FILES`).not.toBeNull();
      expect(url(s3!.endpoint, `${node.name} S3_ENDPOINT`).host).toBe("minio:9000");
      expect(s3!.forcePathStyle).toBe(true);
      expect(s3!.credentials).toEqual({
        accessKeyId: minioEnv.MINIO_ROOT_USER,
        secretAccessKey: minioEnv.MINIO_ROOT_PASSWORD,
      });
      // Browsers reach MinIO on the host port it is published on.
      const publicPort = url(s3!.publicEndpoint, `${node.name} S3_PUBLIC_ENDPOINT`).port;
      expect(published).toContainEqual([publicPort, "9000"]);
      expect(node.config.files.clamav).toEqual({ host: "clamav", port: 3310 });
      expect(node.config.files.policy.unscanned).toBe("block");
    }
  });
});
