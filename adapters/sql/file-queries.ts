/** The `FileStore` port's queries: files' metadata and scan state. */
import type { FileRecord, FileStore, ScanOutcome } from "../../core/ports.js";
import type { FileInfo } from "../../core/types.js";
import type { SqlQuery } from "./sql-driver.js";

const fileColumns = `id, channel_id AS "channelId", uploader_id AS "uploaderId", name,
  content_type AS "contentType", size::float8 AS size, status, thumbnails, created_at::float8 AS "createdAt",
  signature, scan_attempts AS "scanAttempts", next_scan_at::float8 AS "nextScanAt",
  quarantined_at::float8 AS "quarantinedAt"`;

/**
 * The statement part that records a file's change in the user-event outbox (`file.events`
 * on the event stream), for the uploader, from the CTE `saved` that made it: the event is
 * written with the change or not at all. `$at` is the parameter that holds the time.
 */
function fileEventOf(type: "file.uploaded" | "file.scanned" | "file.purged", at: string): string {
  return `INSERT INTO user_events (user_id, type, data, at)
    SELECT saved."uploaderId", '${type}',
      jsonb_build_object('file', jsonb_build_object(
        'id', saved.id, 'channelId', saved."channelId", 'uploaderId', saved."uploaderId", 'name', saved.name,
        'contentType', saved."contentType", 'size', saved.size, 'status', saved.status,
        'thumbnails', saved.thumbnails, 'createdAt', saved."createdAt")) ||
      CASE WHEN saved.signature IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('signature', saved.signature) END,
      ${at}
    FROM saved`;
}

/** The audit log's actor for what the scanner does. */
const scannerActor = "system:scanner";

function toFile(r: FileRecord): FileRecord {
  return {
    id: r.id,
    channelId: r.channelId,
    uploaderId: r.uploaderId,
    name: r.name,
    contentType: r.contentType,
    size: Number(r.size),
    status: r.status,
    thumbnails: r.thumbnails,
    createdAt: Number(r.createdAt),
    signature: r.signature,
    scanAttempts: r.scanAttempts,
    nextScanAt: r.nextScanAt === null ? null : Number(r.nextScanAt),
    quarantinedAt: r.quarantinedAt === null ? null : Number(r.quarantinedAt),
  };
}

/** The `FileStore` port over one SQL connection (or pool). */
export class SqlFileStore implements FileStore {
  constructor(private readonly db: SqlQuery) {}

  async createFile(file: FileInfo): Promise<void> {
    await this.db.query(
      `INSERT INTO files (id, channel_id, uploader_id, name, content_type, size, status, thumbnails, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)`,
      [
        file.id,
        file.channelId,
        file.uploaderId,
        file.name,
        file.contentType,
        file.size,
        file.status,
        JSON.stringify(file.thumbnails),
        file.createdAt,
      ],
    );
  }

  async getFile(fileId: string): Promise<FileRecord | null> {
    const rows = await this.db.query<FileRecord>(`SELECT ${fileColumns} FROM files WHERE id = $1`, [fileId]);
    return rows[0] ? toFile(rows[0]) : null;
  }

  async getFiles(fileIds: string[]): Promise<FileRecord[]> {
    if (fileIds.length === 0) return [];
    const rows = await this.db.query<FileRecord>(
      `SELECT ${fileColumns} FROM files WHERE id IN (SELECT jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(fileIds)],
    );
    return rows.map(toFile);
  }

  async completeUpload(
    fileId: string,
    status: "pending" | "unscanned",
    now: number,
  ): Promise<FileRecord | null> {
    const rows = await this.db.query<FileRecord>(
      `WITH saved AS (
         UPDATE files SET status = $2, next_scan_at = CASE WHEN $2 = 'pending' THEN $3::bigint END
         WHERE id = $1 AND status = 'uploading' RETURNING ${fileColumns}),
       event AS (${fileEventOf("file.uploaded", "$3")})
       SELECT * FROM saved`,
      [fileId, status, now],
    );
    return rows[0] ? toFile(rows[0]) : null;
  }

  async claimScans(now: number, leaseMs: number, limit: number): Promise<FileRecord[]> {
    // SKIP LOCKED: scanners polling at once each take different files.
    const rows = await this.db.query<FileRecord>(
      `UPDATE files SET next_scan_at = $1::bigint + $2::bigint, scan_attempts = scan_attempts + 1
       WHERE id IN (SELECT id FROM files WHERE status = 'pending' AND next_scan_at <= $1
                    ORDER BY next_scan_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${fileColumns}`,
      [now, leaseMs, limit],
    );
    return rows.map(toFile);
  }

  async recordScan(fileId: string, outcome: ScanOutcome, now: number): Promise<FileRecord | null> {
    if ("retryAt" in outcome) {
      const rows = await this.db.query<FileRecord>(
        `UPDATE files SET next_scan_at = $2 WHERE id = $1 AND status = 'pending' RETURNING ${fileColumns}`,
        [fileId, outcome.retryAt],
      );
      return rows[0] ? toFile(rows[0]) : null;
    }
    if (outcome.status === "infected") {
      // Quarantined, and the audit log says so, in one statement (chained by audit_log's trigger).
      const rows = await this.db.query<FileRecord>(
        `WITH saved AS (
           UPDATE files SET status = 'infected', signature = $2, next_scan_at = NULL, quarantined_at = $3
           WHERE id = $1 AND status = 'pending' RETURNING ${fileColumns}),
         audited AS (
           INSERT INTO audit_log (at, actor_id, action, target, details)
           SELECT $3, $4, 'file.quarantine', saved.id,
                  jsonb_build_object('signature', $2::text, 'uploaderId', saved."uploaderId",
                                     'channelId', saved."channelId", 'name', saved.name)
           FROM saved),
         event AS (${fileEventOf("file.scanned", "$3")})
         SELECT * FROM saved`,
        [fileId, outcome.signature, now, scannerActor],
      );
      return rows[0] ? toFile(rows[0]) : null;
    }
    const thumbnails = outcome.status === "clean" ? outcome.thumbnails : [];
    const rows = await this.db.query<FileRecord>(
      `WITH saved AS (
         UPDATE files SET status = $2, thumbnails = $3::text::jsonb, next_scan_at = NULL
         WHERE id = $1 AND status = 'pending' RETURNING ${fileColumns}),
       event AS (${fileEventOf("file.scanned", "$4::bigint")})
       SELECT * FROM saved`,
      [fileId, outcome.status, JSON.stringify(thumbnails), now],
    );
    return rows[0] ? toFile(rows[0]) : null;
  }

  async isFileShared(fileId: string, channelId: string): Promise<boolean> {
    // The conditions match messages_files_idx (a GIN index of the messages that carry files).
    const rows = await this.db.query(
      `SELECT 1 FROM messages
       WHERE files <> '[]'::jsonb AND files ? $1 AND channel_id = $2 AND deleted_at IS NULL LIMIT 1`,
      [fileId, channelId],
    );
    return rows.length > 0;
  }

  async quarantinedBefore(cutoff: number, limit: number): Promise<FileRecord[]> {
    const rows = await this.db.query<FileRecord>(
      `SELECT ${fileColumns} FROM files
       WHERE quarantined_at IS NOT NULL AND purged_at IS NULL AND quarantined_at < $1
       ORDER BY quarantined_at LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map(toFile);
  }

  async abandonedUploads(cutoff: number, limit: number): Promise<FileRecord[]> {
    const rows = await this.db.query<FileRecord>(
      `SELECT ${fileColumns} FROM files WHERE status = 'uploading' AND created_at < $1 ORDER BY created_at LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map(toFile);
  }

  async dropUpload(fileId: string): Promise<void> {
    await this.db.query("DELETE FROM files WHERE id = $1 AND status = 'uploading'", [fileId]);
  }

  async markPurged(fileId: string): Promise<void> {
    await this.db.query(
      `WITH saved AS (
         UPDATE files SET purged_at = $2 WHERE id = $1 AND purged_at IS NULL RETURNING ${fileColumns}),
       event AS (${fileEventOf("file.purged", "$2::bigint")})
       SELECT 1 FROM saved`,
      [fileId, Date.now()],
    );
  }
}
