/**
 * One file of a message, kept current (useFile): a clean image shows its thumbnail, any
 * other file a card (with a download link when it may be had, else why not). When it grows
 * (its answer or its thumbnail arriving) it tells the list, which keeps its newest message
 * in view.
 */
import { useLayoutEffect } from "react";
import { useContentResized } from "../hooks/use-content-resized.js";
import { useFile } from "../hooks/use-file.js";
import { fileDisplay } from "../state/file-display.js";
import { FileCard } from "./FileCard.js";
import { ImageAttachment } from "./ImageAttachment.js";

export function FileAttachment({ fileId }: { fileId: string }) {
  const display = fileDisplay(useFile(fileId));
  const resized = useContentResized();
  const shape = display.kind === "blocked" ? display.reason : display.kind;
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when what shows changes shape
  useLayoutEffect(() => resized(), [shape, resized]);
  return display.kind === "image" ? (
    <ImageAttachment display={display} onLoad={resized} />
  ) : (
    <FileCard fileId={fileId} display={display} />
  );
}
