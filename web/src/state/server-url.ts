/**
 * A URL the server gave (an upload's, a download's, a thumbnail's) as the browser uses it:
 * files on the server's local disk come with URLs relative to the server, which served this
 * page; S3's are absolute (presigned) and stay as they are.
 */
export function serverUrl(url: string, origin: string = location.origin): string {
  return new URL(url, origin).toString();
}
