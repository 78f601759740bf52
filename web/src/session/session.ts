/**
 * The signed-in session: which sign-in the server offers, signing in (dev, or single sign-on
 * through the server) and out, restoring the session on load (by the session cookie of
 * either), and the SDK client that the session's token opens.
 */
import { CloseCode, ColinkClient, type User } from "@colink/client";
import { errorMessage, reportError } from "../logger.js";
import { createStore } from "../state/store.js";
import {
  type AuthConfig,
  devRefresh,
  devSignIn,
  devSignOut,
  fetchAuthConfig,
  type IssuedToken,
  oidcRefresh,
  oidcSignOut,
  SignInError,
} from "./auth-api.js";
import { TokenKeeper } from "./token-keeper.js";

export type SessionState =
  | { status: "loading" }
  | { status: "signedOut"; config: AuthConfig; error: string | null }
  | {
      status: "signedIn";
      config: AuthConfig;
      user: User | null;
      client: ColinkClient;
      signOut: () => Promise<void>;
    };

export const sessionStore = createStore<SessionState>({ status: "loading" });

const noSignIn: AuthConfig = { devAuth: false, oidc: null };

/** What the sign-in screen says once the account is deactivated (closed with 4006, or refused on load). */
const deactivatedNotice = "Your account was deactivated.";

/**
 * What the sign-in screen says for each reason the server's callback gives
 * (`/signin?error=<reason>`): only these words, since anyone can make such a link.
 */
const signInFailures: Record<string, string> = {
  expired: "The sign-in took too long, or was started in another browser. Sign in again.",
  mismatch: "The sign-in response did not match the sign-in started here. Sign in again.",
  refused: "The sign-in provider refused the sign-in.",
  deactivated: deactivatedNotice,
  unavailable: "The sign-in provider cannot be reached. Try again in a moment.",
  failed: "Sign-in failed. Try again.",
};

/** The WebSocket endpoint of the server that served the page. */
function webSocketUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

function signedOut(config: AuthConfig, error: string | null): void {
  sessionStore.update(() => ({ status: "signedOut", config, error }));
}

/** Starts a session with a token, its renewal and its sign-out. */
function signedIn(
  config: AuthConfig,
  first: { accessToken: string; expiresAt: number | null },
  user: User | null,
  renew: () => Promise<{ accessToken: string; expiresAt: number | null }>,
  end: () => Promise<void>,
): void {
  let client: ColinkClient | null = null;
  const signOut = async () => {
    keeper.stop();
    await client?.close();
    await end().catch((error) => reportError("signing out", error));
    signedOut(config, null);
  };
  const keeper = new TokenKeeper(first, renew, (error) => {
    void signOut().then(() =>
      signedOut(config, `Your session has ended: ${errorMessage(error)}. Sign in again.`),
    );
  });
  client = new ColinkClient({ url: webSocketUrl(), token: () => keeper.token() });
  // Signed out elsewhere (another tab, or the session ended at the issuer), or the account
  // deactivated by an admin: the server closed this connection, and the SDK does not
  // reconnect (4000–4499); the session is over here too. A deactivated account's session
  // cookie is cleared as well, so that a reload does not try it again.
  client.on("close", (code) => {
    if (code !== CloseCode.signedOut && code !== CloseCode.deactivated) return;
    keeper.stop();
    void client?.close();
    if (code === CloseCode.deactivated) {
      void end().catch((error) => reportError("ending the deactivated account's session", error));
      signedOut(config, deactivatedNotice);
      return;
    }
    signedOut(config, "You have been signed out. Sign in again.");
  });
  sessionStore.update(() => ({ status: "signedIn", config, user, client, signOut }));
}

function startDevSession(config: AuthConfig, issued: IssuedToken): void {
  signedIn(config, issued, issued.user, devRefresh, devSignOut);
}

function startOidcSession(config: AuthConfig, issued: IssuedToken): void {
  signedIn(config, issued, issued.user, oidcRefresh, oidcSignOut);
}

/**
 * On load: sign in again with the session cookie (single sign-on's, then the dev one's).
 * A single sign-on that failed comes back to `/signin?error=…`, which is shown; so is a
 * session refused because the account was deactivated (the tab was closed when it was).
 */
export async function restoreSession(pathname: string, search: string): Promise<void> {
  let config = noSignIn;
  let deactivated = false;
  /** A refused or missing session is no session; a deactivated account's is remembered. */
  const refreshed = (refresh: () => Promise<IssuedToken>) =>
    refresh().catch((error: unknown) => {
      if (error instanceof SignInError && error.reason === "deactivated") deactivated = true;
      return null;
    });
  try {
    config = await fetchAuthConfig();
    if (config.oidc) {
      const issued = await refreshed(oidcRefresh);
      if (issued) {
        startOidcSession(config, issued);
        return;
      }
    }
    if (config.devAuth) {
      const issued = await refreshed(devRefresh);
      if (issued) {
        startDevSession(config, issued);
        return;
      }
    }
    const failed = pathname === "/signin" ? new URLSearchParams(search).get("error") : null;
    if (deactivated) signedOut(config, deactivatedNotice);
    else signedOut(config, failed === null ? null : (signInFailures[failed] ?? signInFailures.failed!));
  } catch (error) {
    reportError("restoring the session", error);
    signedOut(config, errorMessage(error));
  }
}

/** Dev sign-in with a username and an optional site role. */
export async function signInWithDev(
  config: AuthConfig,
  username: string,
  role: string | null,
): Promise<void> {
  startDevSession(config, await devSignIn(username, role));
}

/** Goes to single sign-on: the server sends the browser to the issuer, and back here signed in. */
export function signInWithOidc(config: AuthConfig): void {
  const here = location.pathname.startsWith("/signin") ? "/" : `${location.pathname}${location.search}`;
  location.assign(`${config.oidc!.loginUrl}?${new URLSearchParams({ returnTo: here })}`);
}
