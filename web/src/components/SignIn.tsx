/** The sign-in screen: the dev form (username, optional role) and/or single sign-on. */
import { type FormEvent, useState } from "react";
import { errorMessage } from "../logger.js";
import type { AuthConfig } from "../session/auth-api.js";
import { signInWithDev, signInWithOidc } from "../session/session.js";

const roles = ["member", "guest", "moderator", "admin"] as const;

export function SignIn({ config, error }: { config: AuthConfig; error: string | null }) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<string>("member");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      await signInWithDev(config, username.trim(), role === "member" ? null : role);
    } catch (e) {
      setFailure(errorMessage(e));
      setBusy(false);
    }
  };

  const singleSignOn = () => {
    setBusy(true);
    signInWithOidc(config);
  };

  const shown = failure ?? error;
  return (
    <main className="signin">
      <div className="signin-card">
        <h1>Sign in to Colink</h1>
        {shown && (
          <p className="signin-error" role="alert">
            {shown}
          </p>
        )}
        {config.oidc && (
          <button type="button" className="button primary wide" onClick={singleSignOn} disabled={busy}>
            Sign in with single sign-on
          </button>
        )}
        {config.devAuth && (
          <form onSubmit={submit} className="signin-form">
            <label htmlFor="signin-username">Username</label>
            <input
              id="signin-username"
              name="username"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
            <label htmlFor="signin-role">Role</label>
            <select id="signin-role" value={role} onChange={(e) => setRole(e.target.value)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <button type="submit" className="button primary wide" disabled={busy || username.trim() === ""}>
              Sign in
            </button>
          </form>
        )}
        {!config.devAuth && !config.oidc && <p>This server offers no way to sign in from the browser.</p>}
      </div>
    </main>
  );
}
