/**
 * PUTs a file's bytes to its signed upload URL with XMLHttpRequest, which reports the
 * upload's progress (fetch does not). The Content-Type is the one `file.begin` was told:
 * the URL's signature covers it.
 */

/** An upload under way: settles when the server has the bytes; `abort` stops it (it then rejects with UploadAborted). */
export interface PutRequest {
  done: Promise<void>;
  abort(): void;
}

/** The upload was stopped by `abort` (the attachment was removed). */
export class UploadAborted extends Error {
  constructor() {
    super("the upload was cancelled");
    this.name = "UploadAborted";
  }
}

export function putFile(
  url: string,
  body: Blob,
  contentType: string,
  onProgress: (sent: number) => void,
): PutRequest {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new Error(`the upload failed (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error("the upload failed: the network is unreachable"));
    xhr.ontimeout = () => reject(new Error("the upload timed out"));
    xhr.onabort = () => reject(new UploadAborted());
    xhr.send(body);
  });
  return { done, abort: () => xhr.abort() };
}
