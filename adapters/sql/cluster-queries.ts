/**
 * The queries of the ports only the nodes of a deployment use together: `ShardFencing`
 * (the epochs that fence commits, kept in the database the commits go to) and
 * `SharedSecrets` (the dev issuer's key and the sign-in cookies' key, the same for every node).
 */
import type { ShardFence, ShardFencing, SharedSecrets } from "../../core/ports.js";
import type { SqlQuery } from "./sql-driver.js";

/** The `ShardFencing` port over one SQL connection (or pool). */
export class SqlShardFencing implements ShardFencing {
  constructor(private readonly db: SqlQuery) {}

  async takeShards(shards: number[]): Promise<ShardFence[]> {
    if (shards.length === 0) return [];
    const rows = await this.db.query<{ shard: number; epoch: string | number }>(
      `INSERT INTO shard_epochs (shard, epoch)
         SELECT s::integer, 1 FROM jsonb_array_elements_text($1::text::jsonb) AS s
       ON CONFLICT (shard) DO UPDATE SET epoch = shard_epochs.epoch + 1
       RETURNING shard, epoch`,
      [JSON.stringify(shards)],
    );
    return rows.map((r) => ({ shard: Number(r.shard), epoch: Number(r.epoch) }));
  }
}

/**
 * The `SharedSecrets` port over one SQL connection (or pool). Every key is a JWK in
 * `dev_issuer_keys`, one row per purpose: `dev` (the dev issuer's key pair) and `session`
 * (the key that seals the sign-in cookies); the table is named after its first use.
 */
export class SqlSharedSecrets implements SharedSecrets {
  constructor(private readonly db: SqlQuery) {}

  sharedDevIssuerKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.sharedKey("dev", candidate);
  }

  sharedSessionKey(candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.sharedKey("session", candidate);
  }

  /** The key stored under `id`, storing `candidate` first when there is none (the first stored wins). */
  private async sharedKey(id: string, candidate: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.db.query(
      `INSERT INTO dev_issuer_keys (id, private_jwk, created_at) VALUES ($1, $2::text::jsonb, $3)
       ON CONFLICT (id) DO NOTHING`,
      [id, JSON.stringify(candidate), Date.now()],
    );
    const rows = await this.db.query<{ jwk: Record<string, unknown> }>(
      `SELECT private_jwk AS jwk FROM dev_issuer_keys WHERE id = $1`,
      [id],
    );
    return rows[0]!.jwk;
  }
}
