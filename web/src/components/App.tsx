/**
 * The top of the app: the sign-in screen while signed out, the workspace once signed in,
 * and the redirects between them (a signed-out user goes to /signin and comes back to /).
 */
import { useEffect } from "react";
import { navigate, parseRoute, useLocationPath } from "../routes.js";
import { sessionStore } from "../session/session.js";
import { useStoreSlice } from "../state/store.js";
import { SignIn } from "./SignIn.js";
import { Workspace } from "./Workspace.js";

export function App() {
  const session = useStoreSlice(sessionStore, (s) => s);
  const route = parseRoute(useLocationPath());

  useEffect(() => {
    if (session.status === "signedOut" && route.name !== "signin")
      navigate({ name: "signin" }, { replace: true });
    if (session.status === "signedIn" && route.name === "signin") {
      navigate({ name: "home" }, { replace: true });
    }
  }, [session.status, route.name]);

  if (session.status === "loading") {
    return (
      <main className="splash" aria-busy="true">
        <p>Loading Colink…</p>
      </main>
    );
  }
  if (session.status === "signedOut") return <SignIn config={session.config} error={session.error} />;
  return <Workspace session={session} route={route} />;
}
