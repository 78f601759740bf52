/**
 * Builds the web client into web/dist, which the server serves at `/`
 * (transport/static-files.ts). `npm run dev:web` runs Vite's dev server with hot reload,
 * forwarding the API, the sign-in routes and the WebSocket to a running Colink
 * (COLINK_URL, default http://localhost:8080).
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const target = process.env.COLINK_URL ?? "http://localhost:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Hashed file names under assets/: the server caches them forever (immutable).
    assetsDir: "assets",
    // No inline polyfill script: the server's Content-Security-Policy allows only 'self'.
    modulePreload: { polyfill: false },
    sourcemap: true,
  },
  server: {
    port: 5173,
    proxy: {
      "/v1": target,
      "/auth": target,
      "/ws": { target, ws: true },
    },
  },
});
