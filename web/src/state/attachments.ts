/**
 * A composer's attachments before they are sent: added, their upload's progress, their file
 * id and readiness, removed, taken by a send; and the composer's attachment error. Pure
 * changes of the app's state, per composer key (the draft's).
 */
import type { AppState, Attachment } from "./app-state.js";

/** A message carries at most this many files (`msg.send`). */
export const maxFilesPerMessage = 10;

const none: Attachment[] = [];

/** The composer's attachments. */
export function attachmentsOf(state: AppState, key: string): Attachment[] {
  return state.attachments[key] ?? none;
}

function changeList(state: AppState, key: string, change: (list: Attachment[]) => Attachment[]): AppState {
  const list = attachmentsOf(state, key);
  const next = change(list);
  if (next === list) return state;
  const { [key]: _old, ...others } = state.attachments;
  return { ...state, attachments: next.length === 0 ? others : { ...others, [key]: next } };
}

function changeOne(
  state: AppState,
  key: string,
  id: string,
  change: (a: Attachment) => Attachment,
): AppState {
  return changeList(state, key, (list) =>
    list.some((a) => a.id === id) ? list.map((a) => (a.id === id ? change(a) : a)) : list,
  );
}

/** New attachments, uploading from 0 bytes. */
export function withAttachments(state: AppState, key: string, added: readonly Attachment[]): AppState {
  return added.length === 0 ? state : changeList(state, key, (list) => [...list, ...added]);
}

/** `file.begin` answered. */
export function withFileId(state: AppState, key: string, id: string, fileId: string): AppState {
  return changeOne(state, key, id, (a) => ({ ...a, fileId }));
}

/** The upload's progress: `sent` bytes of the attachment's size. */
export function withProgress(state: AppState, key: string, id: string, sent: number): AppState {
  return changeOne(state, key, id, (a) => (a.sent === sent ? a : { ...a, sent }));
}

/** `file.complete` answered: the attachment can go with the message. */
export function withReady(state: AppState, key: string, id: string): AppState {
  return changeOne(state, key, id, (a) => ({ ...a, sent: a.size, ready: true }));
}

/** Removed by the user, or failed. */
export function withoutAttachment(state: AppState, key: string, id: string): AppState {
  return changeList(state, key, (list) =>
    list.some((a) => a.id === id) ? list.filter((a) => a.id !== id) : list,
  );
}

/** Whether any of the composer's attachments is still uploading. */
export function uploading(list: readonly Attachment[]): boolean {
  return list.some((a) => !a.ready);
}

/**
 * The file ids a send takes, all attachments being ready, and the state without them (and
 * without the composer's error); null while an upload still runs.
 */
export function takeAttachments(state: AppState, key: string): { state: AppState; fileIds: string[] } | null {
  const list = attachmentsOf(state, key);
  if (uploading(list)) return null;
  const fileIds = list.flatMap((a) => (a.fileId === null ? [] : [a.fileId]));
  const next = withAttachError(
    changeList(state, key, (l) => (l.length === 0 ? l : none)),
    key,
    null,
  );
  return { state: next, fileIds };
}

/** Shows why an attachment failed in the composer, or (null) clears it. */
export function withAttachError(state: AppState, key: string, error: string | null): AppState {
  if ((state.attachError[key] ?? null) === error) return state;
  const { [key]: _old, ...others } = state.attachError;
  return { ...state, attachError: error === null ? others : { ...others, [key]: error } };
}

/** How many more files the composer takes before its message is full. */
export function roomFor(state: AppState, key: string): number {
  return Math.max(0, maxFilesPerMessage - attachmentsOf(state, key).length);
}
