/**
 * The app's one way to report an error that the user does not need to act on (a failed
 * background refresh, say): to the browser console as a warning, with what the app was doing.
 */
export function reportError(doing: string, error: unknown): void {
  console.warn(`colink: ${doing}:`, error);
}

/** A short, readable message for an error shown to the user. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return "something went wrong";
}
