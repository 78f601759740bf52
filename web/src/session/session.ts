/**
 * The signed-in session: which sign-in the server offers, signing in (dev or OIDC) and out,
 * restoring the session on load (dev refresh cookie, or the OIDC callback), and the SDK
 * client that the session's token opens.
 */
import { ColinkClient, type User } from "@colink/client";
import { errorMessage, reportError } from "../logger.js";
import { createStore } from "../state/store.js";
import {
  type AuthConfig,
  devRefresh,
  devSignIn,
  devSignOut,
  fetchAuthConfig,
  type IssuedToken,
  SignInError,
} from "./auth-api.js";
import { beginOidcSignIn, completeOidcSignIn, type OidcTokens, refreshOidcTokens } from "./oidc.js";
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
  sessionStore.update(() => ({ status: "signedIn", config, user, client, signOut }));
}

function startDevSession(config: AuthConfig, issued: IssuedToken): void {
  signedIn(config, issued, issued.user, devRefresh, devSignOut);
}

function startOidcSession(config: AuthConfig, tokens: OidcTokens): void {
  const oidc = config.oidc!;
  let refreshToken = tokens.refreshToken;
  const renew = async () => {
    if (!refreshToken) throw new SignInError("the sign-in provider gave no refresh token", 401);
    const next = await refreshOidcTokens(oidc, refreshToken);
    refreshToken = next.refreshToken ?? refreshToken;
    return next;
  };
  signedIn(config, tokens, null, renew, async () => {});
}

/** On load: finish an OIDC redirect, or sign in again with the dev refresh cookie. */
export async function restoreSession(pathname: string, search: string): Promise<void> {
  let config = noSignIn;
  try {
    config = await fetchAuthConfig();
    if (pathname === "/signin/callback" && config.oidc) {
      startOidcSession(config, await completeOidcSignIn(config.oidc, search));
      return;
    }
    if (config.devAuth) {
      const issued = await devRefresh().catch(() => null);
      if (issued) {
        startDevSession(config, issued);
        return;
      }
    }
    signedOut(config, null);
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

/** Goes to the OIDC issuer. */
export function signInWithOidc(config: AuthConfig): Promise<void> {
  return beginOidcSignIn(config.oidc!);
}
