/** Builds files for the state tests: a valid FileInfo and file.get answer with only the fields a test cares about. */
import type { FileDetails, FileInfo } from "./app-state.js";

export function fileInfo(fields: Partial<FileInfo> & { id: string }): FileInfo {
  return {
    channelId: "C1",
    uploaderId: "Ualice",
    name: "notes.txt",
    contentType: "text/plain",
    size: 120,
    status: "clean",
    thumbnails: [],
    createdAt: 1000,
    ...fields,
  };
}

export function fileDetails(file: FileInfo, urls: Partial<Omit<FileDetails, "file">> = {}): FileDetails {
  const servable = file.status === "clean" || file.status === "unscanned";
  return {
    file,
    url: servable ? `/v1/blobs/files/${file.id}?sig=x` : null,
    thumbnails: {},
    expiresAt: servable ? 3_600_000 : null,
    ...urls,
  };
}
