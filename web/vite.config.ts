import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` proxies the API to a running `chat` binary (CHAT_URL, default
// http://127.0.0.1:3000) so the app and the API share an origin as in production.
const target = process.env.CHAT_URL ?? "http://127.0.0.1:3000";
const api = ["/register", "/login", "/refresh", "/logout", "/me", "/upload", "/media", "/healthz"];

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      ...Object.fromEntries(api.map((p) => [p, { target }])),
      "/socket.io": { target, ws: true },
    },
  },
  build: { sourcemap: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
