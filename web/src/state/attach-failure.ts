/**
 * Why a file could not be attached, as the composer says it: `file.begin` refused it (too
 * large, a type the server does not take) or its upload failed.
 */
import { ColinkRequestError } from "@colink/client";
import { formatFileSize } from "../format/file-size.js";
import { errorMessage } from "../logger.js";

export function attachFailure(name: string, error: unknown): string {
  if (error instanceof ColinkRequestError && error.code === "too_large") {
    const limit = /larger than (\d+) bytes/.exec(error.message)?.[1];
    return limit
      ? `Could not attach ${name}: it is larger than ${formatFileSize(Number(limit))}, the largest file allowed`
      : `Could not attach ${name}: it is too large`;
  }
  return `Could not attach ${name}: ${errorMessage(error)}`;
}

/** The MIME type `file.begin` is told: the browser's, without parameters, or application/octet-stream when it has none. */
export function uploadContentType(browserType: string): string {
  const type = browserType.split(";")[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(type) && type.length <= 127
    ? type
    : "application/octet-stream";
}
