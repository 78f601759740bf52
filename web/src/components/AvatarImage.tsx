/**
 * The image of an avatar file, laid over its placeholder: asked with `file.get` through the
 * file cache (again before its URLs expire), shown once it has a URL, and taken away if it
 * fails to load (the placeholder shows through) until a new URL comes.
 */
import { useState } from "react";
import { useFile } from "../hooks/use-file.js";
import { type AvatarThumbnail, avatarImageUrl } from "../state/avatar-display.js";
import { serverUrl } from "../state/server-url.js";

export function AvatarImage({
  fileId,
  prefer,
  alt,
}: {
  fileId: string;
  prefer: AvatarThumbnail;
  alt: string;
}) {
  const held = useFile(fileId);
  const [failed, setFailed] = useState<string | null>(null);
  const url = avatarImageUrl(held, prefer);
  if (url === null || url === failed) return null;
  return <img className="avatar-image" src={serverUrl(url)} alt={alt} onError={() => setFailed(url)} />;
}
