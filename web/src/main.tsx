/** Starts the app: restores the session (by its cookie) and renders. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./components/App.js";
import { restoreSession } from "./session/session.js";
import "./app.css";

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
void restoreSession(location.pathname, location.search);
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
